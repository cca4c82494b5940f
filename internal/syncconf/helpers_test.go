package syncconf

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
)

// describeTable is a Contact describe for tests: the standard fields of
// the recorded org (research/salesforce-api.md §2.3.1) that the tests use,
// and custom fields of every type. Flags: n nillable, c createable,
// u updateable, f filterable, d defaultedOnCreate, x calculated.
// Picklist values follow a "|", separated by ",".
const describeTable = `
Id                id            18  fd
IsDeleted         boolean       0   fd
AccountId         reference     18  ncuf
LastName          string        80  cuf
FirstName         string        40  ncuf
Salutation        picklist      40  ncuf |Mr.,Ms.,Mrs.,Dr.,Prof.
Name              string        121 f
MailingStreet     textarea      255 ncuf
MailingAddress    address       0   nf
Phone             phone         40  ncuf
MobilePhone       phone         40  ncuf
HomePhone         phone         40  ncuf
Email             email         80  ncuf
Title             string        128 ncuf
Department        string        80  ncuf
LeadSource        picklist      255 ncuf |Web,Phone Inquiry,Partner Referral,Purchased List,Other
Birthdate         date          0   ncuf
Description       textarea      32000 ncu
OwnerId           reference     18  cufd
CreatedDate       datetime      0   fd
LastModifiedDate  datetime      0   fd
LastModifiedById  reference     18  fd
SystemModstamp    datetime      0   fd
IsEmailBounced    boolean       0   fd
PhotoUrl          url           255 nf
Member_No__c      string        40  ncuf
LINE_UID__c       string        64  ncuf
FB_PSID__c        string        64  ncuf
Legacy_ID__c      string        40  nf
Formula_Text__c   string        100 nfx
VIP_Level__c      picklist      40  ncuf |Gold,Silver,Bronze
Interests__c      multipicklist 4099 ncuf |Sports,Music,Travel
Points__c         double        0   ncuf
Age__c            int           0   ncuf
Score__c          currency      0   ncuf
Opt_In__c         boolean       0   cufd
Last_Purchase__c  datetime      0   ncuf
Nickname__c       string        10  ncuf
Gender__c         picklist      40  ncuf |Female,Male,Other
Tags_Text__c      textarea      255 ncuf
Clock__c          time          0   ncuf
Secret__c         string        40  ncu
Update_Only__c    string        40  nuf
`

func testDescribe(t testing.TB) *salesforce.SObjectDescribe {
	t.Helper()
	d := &salesforce.SObjectDescribe{Name: "Contact", Createable: true, Updateable: true, Queryable: true}
	for _, line := range strings.Split(strings.TrimSpace(describeTable), "\n") {
		main, picks, _ := strings.Cut(line, "|")
		cols := strings.Fields(main)
		if len(cols) != 4 {
			t.Fatalf("describe table line %q: got %d columns, want 4", line, len(cols))
		}
		length, err := strconv.Atoi(cols[2])
		if err != nil {
			t.Fatalf("describe table line %q: %v", line, err)
		}
		f := salesforce.Field{Name: cols[0], Label: cols[0], Type: cols[1], Length: length,
			Custom: strings.HasSuffix(cols[0], "__c"), Sortable: true}
		for _, c := range cols[3] {
			switch c {
			case 'n':
				f.Nillable = true
			case 'c':
				f.Createable = true
			case 'u':
				f.Updateable = true
			case 'f':
				f.Filterable = true
			case 'd':
				f.DefaultedOnCreate = true
			case 'x':
				f.Calculated = true
			}
		}
		switch f.Type {
		case "double":
			f.Precision, f.Scale = 18, 0
		case "currency":
			f.Precision, f.Scale = 10, 2
		case "int":
			f.Digits = 9
		}
		if picks != "" {
			f.RestrictedPicklist = true
			for _, v := range strings.Split(picks, ",") {
				f.PicklistValues = append(f.PicklistValues, salesforce.PicklistValue{Active: true, Label: v, Value: v})
			}
		}
		d.Fields = append(d.Fields, f)
	}
	return d
}

func testCustomFields() []contact.CustomFieldDef {
	return []contact.CustomFieldDef{
		{Key: "vip", Label: "VIP", Type: contact.FieldSelect, Options: []string{"Gold", "Silver"}},
		{Key: "tier", Label: "Tier", Type: contact.FieldSelect, Options: []string{"Gold", "Platinum"}},
		{Key: "points", Label: "Points", Type: contact.FieldNumber},
		{Key: "opt_in", Label: "Opt-in", Type: contact.FieldBoolean},
		{Key: "last_purchase", Label: "Last purchase", Type: contact.FieldDate},
		{Key: "note", Label: "Note", Type: contact.FieldText},
	}
}

func testEnv(t testing.TB) Env {
	return Env{Describe: testDescribe(t), CustomFields: testCustomFields()}
}

// validConfig is a configuration that passes validation against testEnv;
// tests change one thing at a time.
func validConfig() Config {
	return Config{
		Identity: IdentityMapping{
			SalesforceField:     "Email",
			PlatformIdentity:    contact.IdentityEmail,
			ToPlatformNoMatch:   NoMatchCreate,
			ToSalesforceNoMatch: NoMatchUpdateOnly,
		},
		Social: []SocialMapping{
			{SalesforceField: "LINE_UID__c", ChannelType: contact.ChannelLINE, ChannelID: "oa-1", Direction: DirBoth},
		},
		Fields: []FieldMapping{
			{SalesforceField: "Member_No__c", PlatformField: "member_id", Direction: DirBoth, Conflict: AlwaysSalesforce},
			{SalesforceField: "Birthdate", PlatformField: "birthday", Direction: DirBoth},
			{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: DirToPlatform},
			{SalesforceField: "LastName", PlatformField: "name", Direction: DirBoth},
			{SalesforceField: "VIP_Level__c", PlatformField: "custom.vip", Direction: DirBoth},
		},
		Conditions: []Condition{
			{SalesforceField: "LeadSource", Operator: OpEquals, Value: "Web"},
		},
	}
}

// binding builds the binding of one Salesforce field and platform field
// of the test environment.
func binding(t testing.TB, sfField, platformField string, dir Direction) Binding {
	t.Helper()
	env := testEnv(t)
	sf, ok := env.Describe.Field(sfField)
	if !ok {
		t.Fatalf("test describe has no field %s", sfField)
	}
	pf, ok := env.PlatformField(platformField)
	if !ok {
		t.Fatalf("test env has no platform field %s", platformField)
	}
	return Binding{FieldMapping: FieldMapping{SalesforceField: sfField, PlatformField: platformField, Direction: dir}, Salesforce: sf, Platform: pf}
}
