package syncer_test

// The model-based convergence test once per object (issue 16): the model
// of model_test.go speaks Contact — its operations and checks name
// Contact's fields — and modelOrg, which stands in for the emulator's Org
// in the model's world (mfix.Org), carries each of them to the chosen
// object: Lead (Birthdate is Birthdate__c there, as Lead has none; side
// creates set Company) or Person Account (Email is PersonEmail, X__c is
// X__pc, …; side creates set the person record type). The configuration
// is the model's, with the object and its field names (mfix.config).
// Merges are Contact's only in the emulator: for the other objects a
// merge is refused, which the model takes as it takes any refused merge.
//
//	go test -run ModelConvergenceByObject ./internal/syncer/   # 120 operations per object and dialect
//	make soak                                                 # 5,000 per object and dialect too

import (
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// modelOrg is the emulator's Org as the model sees it: Contact's field
// names, whatever object the configuration syncs.
type modelOrg struct {
	*sfemu.Org
	choice syncconf.ObjectChoice
	// names maps a Contact field the model names to the object's field,
	// back the reverse; fields not in names are the same on both.
	names, back map[string]string
	// extra is set on every record the model creates in Salesforce.
	extra map[string]any
}

func newModelOrg(o *sfemu.Org) *modelOrg { return &modelOrg{Org: o, choice: syncconf.ObjectContact} }

// modelFields are the Contact fields the model reads and writes.
var modelFields = []string{"Member_Number__c", "LINE_UID__c", "Email", "LastName", "Birthdate", "MobilePhone", "Nickname__c"}

// use makes the org and the model's view of it sync choice.
func (o *modelOrg) use(t testing.TB, choice syncconf.ObjectChoice) {
	t.Helper()
	o.choice, o.names, o.back, o.extra = choice, map[string]string{}, map[string]string{}, map[string]any{}
	switch choice {
	case syncconf.ObjectContact:
	case syncconf.ObjectLead, syncconf.ObjectLeadContact:
		// Lead has the org's custom fields as Contact has (the emulator
		// gives both the same), but no birthdate of its own. The pair
		// maps the same fields on Contact, so Contact gets one too.
		objects := []string{"Lead"}
		if choice == syncconf.ObjectLeadContact {
			objects = append(objects, "Contact")
		}
		for _, obj := range objects {
			if err := o.AddCustomFieldTo(obj, sfemu.CustomField{Name: "Birthdate__c", Label: "Birthdate", Type: "date"}); err != nil {
				t.Fatalf("add Birthdate__c to %s: %v", obj, err)
			}
		}
		o.names["Birthdate"] = "Birthdate__c"
		o.extra["Company"] = "個人"
	case syncconf.ObjectPersonAccount:
		o.EnablePersonAccounts()
		for _, rt := range o.RecordTypes("Account") {
			if rt.Person {
				o.extra["RecordTypeId"] = rt.ID
			}
		}
		for _, n := range modelFields {
			switch {
			case strings.HasSuffix(n, "__c"):
				o.names[n] = strings.TrimSuffix(n, "__c") + "__pc"
			case n != "LastName":
				o.names[n] = "Person" + n
			}
		}
	default:
		t.Fatalf("no model for object %q", choice)
	}
	for k, v := range o.names {
		o.back[v] = k
	}
}

// sobject is the API name of the records the model works on.
func (o *modelOrg) sobject() string { return o.choice.SObject() }

func (o *modelOrg) out(fields map[string]any) map[string]any {
	w := make(map[string]any, len(fields))
	for k, v := range fields {
		if n, ok := o.names[k]; ok {
			k = n
		}
		w[k] = v
	}
	return w
}

// CreateAsHuman creates a record of the object, named in Contact's terms.
func (o *modelOrg) CreateAsHuman(fields map[string]any) (string, error) {
	if o.choice == syncconf.ObjectContact {
		return o.Org.CreateAsHuman(fields)
	}
	w := o.out(fields)
	maps.Copy(w, o.extra)
	return o.CreateRecordAs(o.Human().ID, o.sobject(), w)
}

// ModifyAsHuman updates a record, named in Contact's terms.
func (o *modelOrg) ModifyAsHuman(id string, fields map[string]any) error {
	return o.Org.ModifyAsHuman(id, o.out(fields))
}

// Record reads a record with Contact's field names.
func (o *modelOrg) Record(id string) (map[string]any, bool) {
	r, ok := o.Org.Record(id)
	if !ok || len(o.back) == 0 {
		return r, ok
	}
	out := make(map[string]any, len(r))
	for k, v := range r {
		if n, ok := o.back[k]; ok {
			out[n] = v
		} else if _, shadowed := o.names[k]; !shadowed {
			out[k] = v // a Contact-named field the object also has (a Person Account's Email is PersonEmail)
		}
	}
	return out, true
}

// ContactIDs lists the records of the object.
func (o *modelOrg) ContactIDs(withDeleted bool) []string {
	return o.RecordIDs(o.sobject(), withDeleted)
}

// ContactCount counts the live records of the object.
func (o *modelOrg) ContactCount() int { return len(o.RecordIDs(o.sobject(), false)) }

// MergeContacts merges Contacts; the emulator merges no other object.
func (o *modelOrg) MergeContacts(masterID string, loserIDs ...string) error {
	if o.choice != syncconf.ObjectContact {
		return fmt.Errorf("the emulator merges Contacts only, not %s", o.sobject())
	}
	return o.Org.MergeContacts(masterID, loserIDs...)
}

// config is the model's configuration for the object the org syncs: its
// field names, and for Leads the Company of the Leads sfsync creates.
func (f *mfix) config() syncconf.Config {
	c := modelConfig()
	o := f.Org
	if o.choice == syncconf.ObjectContact {
		return c
	}
	c.SyncObject = o.choice
	name := func(n string) string {
		if m, ok := o.names[n]; ok {
			return m
		}
		return n
	}
	c.Identity.SalesforceField = name(c.Identity.SalesforceField)
	for i := range c.Social {
		c.Social[i].SalesforceField = name(c.Social[i].SalesforceField)
	}
	for i := range c.Fields {
		c.Fields[i].SalesforceField = name(c.Fields[i].SalesforceField)
	}
	if o.choice.Leads() {
		c.Create.Constants = []syncconf.ConstantValue{{SalesforceField: "Company", Value: "LINE"}}
	}
	return c
}

// modelObjectOps is the size of each per-object run: SFSYNC_MODEL_OPS or
// the soak's size when set, else a small one, so that go test stays cheap
// (TestModelConvergence runs Contact at its own size).
func modelObjectOps(t *testing.T) (seed uint64, ops int) {
	seed, ops = modelParams(t)
	if os.Getenv("SFSYNC_SOAK") == "" && os.Getenv("SFSYNC_MODEL_OPS") == "" {
		ops = 120
	}
	return seed, ops
}

// TestModelConvergenceByObject runs the model with each object the admin
// may choose besides Contact (TestModelConvergence's): Lead, Person
// Account, and the pair "Lead, then the converted Contact" (no Lead is
// converted here: TestLeadThenContactPair converts), on both databases.
func TestModelConvergenceByObject(t *testing.T) {
	t.Parallel()
	seed, ops := modelObjectOps(t)
	for _, choice := range []syncconf.ObjectChoice{syncconf.ObjectLead, syncconf.ObjectPersonAccount, syncconf.ObjectLeadContact} {
		t.Run(string(choice), func(t *testing.T) {
			t.Parallel()
			eachDialect(t, func(t *testing.T, d store.Dialect) {
				m := newModel(t, d, seed)
				m.Org.use(t, choice)
				t.Cleanup(func() {
					if t.Failed() {
						t.Logf("replay with: SFSYNC_MODEL_SEED=%d SFSYNC_MODEL_OPS=%d go test -run 'ModelConvergenceByObject/%s/%s' ./internal/syncer/", seed, ops, choice, d)
						t.Logf("last operations:\n%s", strings.Join(m.trail, "\n"))
						if f, err := os.CreateTemp("", "sfsync-model-*.log"); err == nil {
							if _, err := f.WriteString(strings.Join(m.full, "\n") + "\n"); err != nil {
								t.Logf("write the log: %v", err)
							}
							if err := f.Close(); err != nil {
								t.Logf("close the log: %v", err)
							}
							t.Logf("every operation: %s", f.Name())
						}
					}
				})
				start := time.Now()
				m.run(ops)
				t.Logf("seed %d: %d operations with %s on %s in %v; %s", seed, ops, choice, d, time.Since(start).Round(time.Millisecond), m.stats())
				if n := m.Org.ContactCount(); n == 0 {
					t.Errorf("no %s records at the end: the model ran on another object", m.Org.sobject())
				}
			})
		})
	}
}

// TestModelBugPersonAccountIncrementalOutOfScope: found by the model with
// Person Accounts. An incremental pull evaluates the scope on the client,
// and the scope of Person Accounts says IsPersonAccount = true — a field
// the pull did not read, so every changed Person Account was out of scope
// (kept linked, never updated, never created on the platform).
func TestModelBugPersonAccountIncrementalOutOfScope(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.Org.EnablePersonAccounts()
	var rt string
	for _, r := range f.Org.RecordTypes("Account") {
		if r.Person {
			rt = r.ID
		}
	}
	human := f.Org.Human().ID
	amy, err := f.Org.CreateRecordAs(human, "Account", map[string]any{"LastName": "Amy", "PersonEmail": "amy@example.com", "RecordTypeId": rt})
	if err != nil {
		t.Fatal(err)
	}
	f.save(t, syncconf.Config{SyncObject: syncconf.ObjectPersonAccount,
		Identity: syncconf.IdentityMapping{SalesforceField: "PersonEmail", PlatformIdentity: contact.IdentityEmail,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth}}})
	run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.pull(t, run, syncer.ModeFull); got.Counts.Created != 1 {
		t.Fatalf("first sync = %+v, want 1 created", got.Counts)
	}
	if err := f.Org.ModifyAsHuman(amy, map[string]any{"LastName": "Amy Z"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Org.CreateRecordAs(human, "Account", map[string]any{"LastName": "Bo", "PersonEmail": "bo@example.com", "RecordTypeId": rt}); err != nil {
		t.Fatal(err)
	}
	inc := f.syncNow(t)
	if inc.Counts.Updated != 1 || inc.Counts.Created != 1 || inc.Counts.OutOfScope != 0 {
		t.Fatalf("incremental pull = %+v, want 1 updated, 1 created, none out of scope", inc.Counts)
	}
}
