package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// The wizard's steps, numbered as in the seed (步驟二 … 步驟五). The draft
// configuration travels between them in a hidden field, so the wizard
// works without JavaScript and keeps nothing on the server until Save.
var steps = []struct {
	ID   string
	Num  int
	Step syncconf.Step
}{
	{"identity", 2, syncconf.StepIdentity},
	{"social", 3, syncconf.StepSocial},
	{"fields", 4, syncconf.StepFields},
	{"conditions", 5, syncconf.StepConditions},
}

func stepIndex(id string) int {
	for i, st := range steps {
		if st.ID == id {
			return i
		}
	}
	return -1
}

func stepOf(s syncconf.Step) string {
	for _, st := range steps {
		if st.Step == s {
			return st.ID
		}
	}
	return steps[len(steps)-1].ID
}

// maxRows bounds the rows a posted form may describe.
const maxRows = 100

// defaultConfig is where a tenant's first setup starts.
func defaultConfig() syncconf.Config {
	return syncconf.Config{SchemaVersion: syncconf.CurrentSchemaVersion, Identity: syncconf.IdentityMapping{
		ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly}}
}

func (s *server) currentConfig(r *http.Request, rc *reqCtx) (syncconf.Config, bool, error) {
	cfg, _, err := s.opts.Engine.CurrentConfig(r.Context(), rc.Tenant.ID)
	if errors.Is(err, store.ErrNotFound) {
		return defaultConfig(), false, nil
	}
	return cfg, err == nil, err
}

func (s *server) setupGet(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	step := r.PathValue("step")
	if stepIndex(step) < 0 {
		s.renderError(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	cfg, saved, err := s.currentConfig(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.renderSetup(w, r, rc, http.StatusOK, setupState{step: step, cfg: cfg, saved: saved})
}

// setupState is one rendering of the wizard.
type setupState struct {
	step    string
	cfg     syncconf.Config
	saved   bool
	errs    syncconf.ValidationErrors
	notice  string // catalogue key
	failure string // a message already in the admin's language
	dryRun  *syncconf.DryRunReport
}

func (s *server) setupPost(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	step := r.PathValue("step")
	if stepIndex(step) < 0 {
		s.renderError(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	ctx := r.Context()
	f := r.PostForm
	st := setupState{step: step, saved: f.Get("saved") == "1"}
	cfg, err := syncconf.DecodeConfig([]byte(f.Get("draft")))
	if err != nil {
		if cfg, st.saved, err = s.currentConfig(r, rc); err != nil {
			s.fail(w, r, rc, err)
			return
		}
	}
	applyStep(&cfg, step, f)
	st.cfg = cfg
	action := f.Get("action")
	switch {
	case action == "add":
		switch step {
		case "social":
			env, err := s.opts.Engine.Env(ctx, rc.Tenant.ID)
			if err != nil {
				s.fail(w, r, rc, err)
				return
			}
			if len(cfg.Social) >= 1 && !slices.Contains(env.Entitlements, syncconf.EntitlementSocialCDP) {
				st.notice = "setup.social_plan_refused"
			} else {
				st.cfg.Social = append(st.cfg.Social, syncconf.SocialMapping{ChannelType: contact.ChannelLINE, Direction: syncconf.DirBoth})
			}
		case "fields":
			st.cfg.Fields = append(st.cfg.Fields, syncconf.FieldMapping{Direction: syncconf.DirBoth})
		case "conditions":
			st.cfg.Conditions = append(st.cfg.Conditions, syncconf.Condition{})
		}
	case strings.HasPrefix(action, "remove:"):
		i, err := strconv.Atoi(strings.TrimPrefix(action, "remove:"))
		if err == nil {
			st.cfg = removeRow(st.cfg, step, i)
		}
	case strings.HasPrefix(action, "goto:"):
		if to := strings.TrimPrefix(action, "goto:"); stepIndex(to) >= 0 {
			st.step = to
		}
	case action == "back":
		if i := stepIndex(step); i > 0 {
			st.step = steps[i-1].ID
		}
	case action == "next":
		err := s.opts.Engine.ValidateConfig(ctx, rc.Tenant.ID, cfg)
		var ves syncconf.ValidationErrors
		switch {
		case errors.As(err, &ves):
			st.errs = stepErrors(ves, step)
		case err != nil:
			s.fail(w, r, rc, err)
			return
		}
		if len(st.errs) == 0 {
			if i := stepIndex(step); i < len(steps)-1 {
				st.step = steps[i+1].ID
			}
		}
	case action == "dryrun":
		if err := s.opts.Engine.ValidateConfig(ctx, rc.Tenant.ID, cfg); err != nil {
			if !s.validationFailed(w, r, rc, &st, err) {
				return
			}
			break
		}
		rep, err := s.opts.Engine.DryRun(ctx, rc.Tenant.ID, cfg)
		if err != nil {
			if !s.showFailure(w, r, rc, &st, err) {
				return
			}
			break
		}
		st.dryRun = &rep
	case action == "save":
		_, err := s.opts.Engine.SaveConfig(ctx, rc.Tenant.ID, rc.Admin.ID, cfg)
		if err != nil {
			if !s.validationFailed(w, r, rc, &st, err) {
				return
			}
			break
		}
		s.log.InfoContext(ctx, "sync configuration saved", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID)
		// The first save leads to step 6; later edits back to the sync info.
		next := "/admin/salesforce/start?done=saved"
		if _, ran, err := s.opts.Engine.InitialRun(ctx, rc.Tenant.ID); err == nil && ran {
			next = "/admin/salesforce/info?done=saved"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	status := http.StatusOK
	if len(st.errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.renderSetup(w, r, rc, status, st)
}

// validationFailed puts validation errors into st and moves to the first
// step that has any. It returns false when err was something else and a
// failure page has been written.
func (s *server) validationFailed(w http.ResponseWriter, r *http.Request, rc *reqCtx, st *setupState, err error) bool {
	var ves syncconf.ValidationErrors
	if errors.As(err, &ves) && len(ves) > 0 {
		st.errs = ves
		st.step = stepOf(ves[0].Step)
		return true
	}
	return s.showFailure(w, r, rc, st, err)
}

// showFailure shows a Salesforce refusal above the form (the draft stays);
// other errors become the error page.
func (s *server) showFailure(w http.ResponseWriter, r *http.Request, rc *reqCtx, st *setupState, err error) bool {
	var ref interface{ Message(string) string }
	if errors.As(err, &ref) {
		st.failure = ref.Message(rc.Lang)
		return true
	}
	s.fail(w, r, rc, err)
	return false
}

func stepErrors(ves syncconf.ValidationErrors, step string) syncconf.ValidationErrors {
	var out syncconf.ValidationErrors
	for _, e := range ves {
		if stepOf(e.Step) == step {
			out = append(out, e)
		}
	}
	return out
}

func removeRow(cfg syncconf.Config, step string, i int) syncconf.Config {
	switch step {
	case "social":
		if i >= 0 && i < len(cfg.Social) {
			cfg.Social = slices.Delete(slices.Clone(cfg.Social), i, i+1)
		}
	case "fields":
		if i >= 0 && i < len(cfg.Fields) {
			cfg.Fields = slices.Delete(slices.Clone(cfg.Fields), i, i+1)
		}
	case "conditions":
		if i >= 0 && i < len(cfg.Conditions) {
			cfg.Conditions = slices.Delete(slices.Clone(cfg.Conditions), i, i+1)
		}
	}
	return cfg
}

type formValues interface{ Get(string) string }

func rowCount(f formValues, name string) int {
	n, err := strconv.Atoi(f.Get(name))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, maxRows)
}

// applyStep copies the posted inputs of one step into cfg. Input names
// are the JSON paths validation errors use, e.g. field_mappings[2].direction.
func applyStep(cfg *syncconf.Config, step string, f formValues) {
	get := func(name string) string { return strings.TrimSpace(f.Get(name)) }
	switch step {
	case "identity":
		if o := syncconf.ObjectChoice(get("object")); o != "" && o != cfg.Choice() {
			// Another object has other fields: the pickers start afresh.
			cfg.SyncObject = o
			if cfg.SyncObject == syncconf.ObjectContact {
				cfg.SyncObject = ""
			}
		}
		cfg.Create.Owner = syncconf.OwnerPolicy(get("create.owner"))
		cfg.Create.OwnerID = get("create.owner_id")
		cfg.Create.RecordTypeID = get("create.record_type_id")
		cfg.Create.AccountID = get("create.account_id")
		cfg.Create.OnDuplicate = syncconf.DuplicatePolicy(get("create.on_duplicate"))
		cfg.Create.Constants = parseConstants(f.Get("create.constants"))
		cfg.Identity.SalesforceField = get("identity.salesforce_field")
		cfg.Identity.PlatformIdentity = contact.Identity(get("identity.platform_identity"))
		cfg.Identity.ToPlatformNoMatch = syncconf.NoMatchPolicy(get("identity.to_platform_no_match"))
		cfg.Identity.ToSalesforceNoMatch = syncconf.NoMatchPolicy(get("identity.to_salesforce_no_match"))
	case "social":
		cfg.Social = nil
		for i := range rowCount(f, "social_count") {
			p := fmt.Sprintf("social_mappings[%d]", i)
			m := syncconf.SocialMapping{SalesforceField: get(p + ".salesforce_field"), ChannelType: get(p + ".channel_type"),
				ChannelID: get(p + ".channel_id"), Direction: syncconf.Direction(get(p + ".direction"))}
			if m.Direction == syncconf.DirBoth {
				m.Conflict = syncconf.ConflictRule(get(p + ".conflict"))
			}
			cfg.Social = append(cfg.Social, m)
		}
	case "fields":
		cfg.Fields = nil
		for i := range rowCount(f, "field_count") {
			p := fmt.Sprintf("field_mappings[%d]", i)
			m := syncconf.FieldMapping{SalesforceField: get(p + ".salesforce_field"), PlatformField: get(p + ".platform_field"),
				Direction: syncconf.Direction(get(p + ".direction"))}
			// The conflict rule only means something for two-way fields; a
			// rule left selected on a one-way row is dropped, not an error.
			if m.Direction == syncconf.DirBoth {
				m.Conflict = syncconf.ConflictRule(get(p + ".conflict"))
			}
			m.NameRule = syncconf.NameRule(get(p + ".name_rule"))
			m.ValueMap = parseValueMap(f.Get(p + ".value_map"))
			cfg.Fields = append(cfg.Fields, m)
		}
	case "conditions":
		cfg.Conditions = nil
		for i := range rowCount(f, "condition_count") {
			p := fmt.Sprintf("conditions[%d]", i)
			c := syncconf.Condition{SalesforceField: get(p + ".salesforce_field"), Operator: syncconf.Operator(get(p + ".operator"))}
			raw := f.Get(p + ".value")
			switch c.Operator {
			case syncconf.OpIn, syncconf.OpNotIn:
				for _, v := range strings.Split(raw, ",") {
					if v = strings.TrimSpace(v); v != "" {
						c.Values = append(c.Values, v)
					}
				}
			case syncconf.OpIsEmpty, syncconf.OpIsNotEmpty:
			default:
				c.Value = strings.TrimSpace(raw)
			}
			cfg.Conditions = append(cfg.Conditions, c)
		}
	}
}

// parseConstants reads the constants box: one "Field=Value" a line.
func parseConstants(raw string) []syncconf.ConstantValue {
	var out []syncconf.ConstantValue
	for _, line := range strings.Split(raw, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out = append(out, syncconf.ConstantValue{SalesforceField: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return out
}

// formatConstants writes constants back into the box.
func formatConstants(cs []syncconf.ConstantValue) string {
	var lines []string
	for _, c := range cs {
		lines = append(lines, c.SalesforceField+"="+c.Value)
	}
	return strings.Join(lines, "\n")
}

// parseValueMap reads a value map box: "platform=Salesforce" pairs
// separated by ";" (VIP=Gold; 一般=Silver).
func parseValueMap(raw string) []syncconf.ValuePair {
	var out []syncconf.ValuePair
	for _, part := range strings.Split(raw, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		a, b, _ := strings.Cut(part, "=")
		out = append(out, syncconf.ValuePair{Platform: strings.TrimSpace(a), Salesforce: strings.TrimSpace(b)})
	}
	return out
}

// formatValueMap writes a value map back into its box.
func formatValueMap(ps []syncconf.ValuePair) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Platform+"="+p.Salesforce)
	}
	return strings.Join(parts, "; ")
}

// setupView is the data of the wizard page.
type setupView struct {
	Step      string
	Num       int
	Steps     []stepLink
	Draft     string
	Saved     bool
	Cfg       syncconf.Config
	Summary   []errItem
	Notice    string
	Failure   string
	DryRun    *syncconf.DryRunReport
	SocialCDP bool
	Last      bool

	Identity   identityView
	Social     []socialRow
	Fields     []fieldRow
	Conditions []conditionRow
	// Errors on a whole list (e.g. "nothing to sync").
	ListErrs []string

	SocialFields    []option
	MappingFields   []option
	PlatformFields  []option
	ConditionFields []option
	Channels        []option
}

type stepLink struct {
	ID, Key   string
	Num       int
	Current   bool
	HasErrors bool
}

type errItem struct{ Anchor, Message string }

type option struct {
	Value, Label string
}

type identityView struct {
	Fields                                   []option
	FieldErrs, IdentityErrs, ToPErrs, ToSErr []string
	// The object choice (issue 16): the objects the org offers.
	Object     string
	Objects    []option
	ObjectErrs []string
	// What sfsync sets on records it creates.
	RecordTypes                                          []option
	Constants                                            string
	CreateErrs, OwnerErrs, OwnerIDErrs, RTErrs, AcctErrs []string
	DupErrs, ConstErrs                                   []string
	IsLead, IsContact                                    bool
}

type socialRow struct {
	I                                                                  int
	M                                                                  syncconf.SocialMapping
	RowErrs, FieldErrs, TypeErrs, ChannelIDErrs, DirErrs, ConflictErrs []string
}

type fieldRow struct {
	I                                              int
	M                                              syncconf.FieldMapping
	RowErrs, SFErrs, PFErrs, DirErrs, ConflictErrs []string
	FieldType                                      string
	// Issue 16: the name rule and value map of the row.
	NameRuleErrs, ValueMapErrs []string
	ValueMap                   string
}

type conditionRow struct {
	I                            int
	C                            syncconf.Condition
	Type                         string
	Operators                    []option
	Value                        string
	InputType                    string
	Choices                      []string // picklist values, true/false
	NeedsValue                   bool
	FieldErrs, OpErrs, ValueErrs []string
	Hint                         string // catalogue key
}

// anchor is the HTML id of the input named by a JSON path.
func anchor(path string) string {
	r := strings.NewReplacer("[", "-", "]", "", ".", "-")
	return "f-" + r.Replace(path)
}

func fieldOptions(fields []salesforce.Field) []option {
	out := make([]option, 0, len(fields))
	for _, f := range fields {
		out = append(out, option{Value: f.Name, Label: fmt.Sprintf("%s (%s · %s)", f.Label, f.Name, f.Type)})
	}
	return out
}

// keep adds a saved value that the picker would not offer (a field since
// removed from Salesforce, or no longer valid for its purpose), so the
// admin sees it with its validation error instead of losing it silently.
func keep(opts []option, value string) []option {
	if value == "" {
		return opts
	}
	for _, o := range opts {
		if o.Value == value {
			return opts
		}
	}
	return append(opts, option{Value: value, Label: value + " (?)"})
}

var channelNames = map[string]string{
	contact.ChannelLINE: "LINE", contact.ChannelFacebook: "Facebook Messenger", contact.ChannelInstagram: "Instagram",
	contact.ChannelWhatsApp: "WhatsApp", contact.ChannelWeChat: "WeChat", contact.ChannelTelegram: "Telegram",
}

func (s *server) renderSetup(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, st setupState) {
	env, err := s.opts.Engine.EnvFor(r.Context(), rc.Tenant.ID, st.cfg.Choice())
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if env.Describe == nil {
		s.fail(w, r, rc, syncconf.ErrNoDescribe)
		return
	}
	draft, err := st.cfg.CanonicalJSON()
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	lang := rc.Lang
	msgs := map[string][]string{}
	for _, e := range st.errs {
		msg := e.Message[lang]
		if msg == "" {
			msg = e.Message[syncconf.LangEN]
		}
		msgs[e.Path] = append(msgs[e.Path], msg)
	}
	used := map[string]bool{}
	at := func(paths ...string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, msgs[p]...)
			used[p] = true
		}
		return out
	}
	v := setupView{Step: st.step, Draft: string(draft), Saved: st.saved, Cfg: st.cfg, Notice: st.notice, Failure: st.failure,
		DryRun: st.dryRun, SocialCDP: slices.Contains(env.Entitlements, syncconf.EntitlementSocialCDP),
		Last: st.step == steps[len(steps)-1].ID}
	cur := stepIndex(st.step)
	v.Num = steps[cur].Num
	for i, x := range steps {
		l := stepLink{ID: x.ID, Key: "step." + x.ID, Num: x.Num, Current: i == cur}
		for _, e := range st.errs {
			if e.Step == x.Step {
				l.HasErrors = true
			}
		}
		v.Steps = append(v.Steps, l)
	}
	cfg := &st.cfg
	d := env.Describe
	switch st.step {
	case "identity":
		// Offer every field that can identify contacts by some platform
		// identity; a mismatch with the chosen one is a validation error.
		anyID := *cfg
		anyID.Identity.PlatformIdentity = ""
		v.Identity = identityView{Fields: keep(fieldOptions(anyID.OfferableFields(d, syncconf.PurposeIdentity)), cfg.Identity.SalesforceField),
			FieldErrs:    at("identity.salesforce_field"),
			IdentityErrs: at("identity.platform_identity"),
			ToPErrs:      at("identity.to_platform_no_match"),
			ToSErr:       at("identity.to_salesforce_no_match")}
		for _, o := range env.Objects() {
			v.Identity.Objects = append(v.Identity.Objects, option{Value: string(o), Label: "object." + string(o)})
		}
		v.Identity.Object = string(cfg.Choice())
		v.Identity.Objects = keep(v.Identity.Objects, v.Identity.Object)
		v.Identity.ObjectErrs = at("object")
		for _, rt := range d.RecordTypeInfos {
			if rt.Available && !rt.Master {
				v.Identity.RecordTypes = append(v.Identity.RecordTypes, option{Value: rt.RecordTypeID, Label: rt.Name})
			}
		}
		v.Identity.RecordTypes = keep(v.Identity.RecordTypes, cfg.Create.RecordTypeID)
		v.Identity.Constants = formatConstants(cfg.Create.Constants)
		v.Identity.IsLead, v.Identity.IsContact = cfg.Choice().Leads(), cfg.Choice() == syncconf.ObjectContact
		v.Identity.CreateErrs = at("create")
		v.Identity.OwnerErrs = at("create.owner")
		v.Identity.OwnerIDErrs = at("create.owner_id")
		v.Identity.RTErrs = at("create.record_type_id")
		v.Identity.AcctErrs = at("create.account_id")
		v.Identity.DupErrs = at("create.on_duplicate")
		for i, c := range cfg.Create.Constants {
			p := fmt.Sprintf("create.constants[%d]", i)
			for _, e := range at(p, p+".salesforce_field", p+".value") {
				v.Identity.ConstErrs = append(v.Identity.ConstErrs, c.SalesforceField+": "+e)
			}
		}
	case "social":
		v.SocialFields = fieldOptions(cfg.OfferableFields(d, syncconf.PurposeSocial))
		for _, m := range cfg.Social {
			v.SocialFields = keep(v.SocialFields, m.SalesforceField)
		}
		for _, ct := range contact.ChannelTypes {
			v.Channels = append(v.Channels, option{Value: ct, Label: channelNames[ct]})
		}
		for i, m := range cfg.Social {
			p := fmt.Sprintf("social_mappings[%d]", i)
			v.Social = append(v.Social, socialRow{I: i, M: m, RowErrs: at(p), FieldErrs: at(p + ".salesforce_field"),
				TypeErrs: at(p + ".channel_type"), ChannelIDErrs: at(p + ".channel_id"), DirErrs: at(p + ".direction"), ConflictErrs: at(p + ".conflict")})
		}
		v.ListErrs = at("social_mappings")
	case "fields":
		v.MappingFields = fieldOptions(cfg.OfferableFields(d, syncconf.PurposeMapping))
		for _, m := range cfg.Fields {
			v.MappingFields = keep(v.MappingFields, m.SalesforceField)
		}
		for _, pf := range env.PlatformFields() {
			v.PlatformFields = append(v.PlatformFields, option{Value: pf.Name, Label: platformLabel(lang, pf, env)})
		}
		for _, m := range cfg.Fields {
			v.PlatformFields = keep(v.PlatformFields, m.PlatformField)
		}
		for i, m := range cfg.Fields {
			p := fmt.Sprintf("field_mappings[%d]", i)
			row := fieldRow{I: i, M: m, RowErrs: at(p), SFErrs: at(p + ".salesforce_field"), PFErrs: at(p + ".platform_field"),
				DirErrs: at(p + ".direction"), ConflictErrs: at(p + ".conflict")}
			if f, ok := d.Field(m.SalesforceField); ok {
				row.FieldType = f.Type
			}
			row.NameRuleErrs = at(p + ".name_rule")
			valuePaths := []string{p + ".value_map"}
			for j := range m.ValueMap {
				q := fmt.Sprintf("%s.value_map[%d]", p, j)
				valuePaths = append(valuePaths, q, q+".platform", q+".salesforce")
			}
			row.ValueMapErrs = at(valuePaths...)
			row.ValueMap = formatValueMap(m.ValueMap)
			v.Fields = append(v.Fields, row)
		}
		v.ListErrs = at("field_mappings")
	case "conditions":
		v.ConditionFields = fieldOptions(cfg.OfferableFields(d, syncconf.PurposeCondition))
		for _, c := range cfg.Conditions {
			v.ConditionFields = keep(v.ConditionFields, c.SalesforceField)
		}
		for i, c := range cfg.Conditions {
			p := fmt.Sprintf("conditions[%d]", i)
			row := conditionRow{I: i, C: c, FieldErrs: at(p + ".salesforce_field"), OpErrs: at(p + ".operator"), Value: c.Value, InputType: "text", NeedsValue: true}
			var valuePaths []string
			valuePaths = append(valuePaths, p, p+".value", p+".values")
			for j := range c.Values {
				valuePaths = append(valuePaths, fmt.Sprintf("%s.values[%d]", p, j))
			}
			row.ValueErrs = at(valuePaths...)
			if len(c.Values) > 0 {
				row.Value = strings.Join(c.Values, ", ")
			}
			if f, ok := d.Field(c.SalesforceField); ok {
				row.Type = f.Type
				for _, op := range syncconf.OperatorsFor(f.Type) {
					row.Operators = append(row.Operators, option{Value: string(op), Label: "op." + string(op)})
				}
				conditionInput(&row, f)
			}
			switch c.Operator {
			case syncconf.OpIsEmpty, syncconf.OpIsNotEmpty:
				row.NeedsValue = false
			case syncconf.OpIn, syncconf.OpNotIn:
				row.InputType, row.Hint = "text", "setup.cond_hint_list"
			}
			v.Conditions = append(v.Conditions, row)
		}
		v.ListErrs = at("conditions")
	}
	// Every error of this step is in the summary at the top, linked to its
	// input; errors no input shows inline are listed there only.
	for _, e := range st.errs {
		if stepOf(e.Step) != st.step {
			continue
		}
		msg := e.Message[lang]
		if msg == "" {
			msg = e.Message[syncconf.LangEN]
		}
		a := anchor(e.Path)
		if !used[e.Path] {
			a = "errors"
		}
		if label := s.pathLabel(lang, e.Path); label != "" {
			msg = label + ": " + msg
		}
		v.Summary = append(v.Summary, errItem{Anchor: a, Message: msg})
	}
	s.renderPage(w, r, rc, status, "setup", v)
}

// conditionInput picks the value input that fits a Salesforce type.
func conditionInput(row *conditionRow, f salesforce.Field) {
	switch f.Type {
	case "date":
		row.InputType, row.Hint = "date", "setup.cond_hint_date"
	case "datetime":
		row.Hint = "setup.cond_hint_datetime"
	case "boolean":
		row.Choices = []string{"true", "false"}
	case "double", "currency", "percent", "int", "long":
		row.Hint = "setup.cond_hint_number"
	case "picklist":
		for _, pv := range f.PicklistValues {
			if pv.Active {
				row.Choices = append(row.Choices, pv.Value)
			}
		}
	}
}

func platformLabel(lang string, pf syncconf.PlatformField, env syncconf.Env) string {
	if key, ok := strings.CutPrefix(pf.Name, syncconf.CustomFieldPrefix); ok {
		for _, d := range env.CustomFields {
			if d.Key == key {
				prefix, _ := translate(lang, "pf.custom")
				return prefix + d.Label
			}
		}
		return pf.Name
	}
	label, err := translate(lang, "pf."+pf.Name)
	if err != nil {
		return pf.Name
	}
	return label
}

var pathRE = regexp.MustCompile(`^([a-z_]+)(?:\[(\d+)\])?(?:\.([a-z_]+))?`)

// rowKeys and inputKeys name the rows and inputs of validation paths, so
// the error summary says where each error is.
var rowKeys = map[string]string{"social_mappings": "setup.social_row", "field_mappings": "setup.field_row", "conditions": "setup.condition_row"}

var inputKeys = map[string]string{
	"salesforce_field": "setup.sf_field", "platform_field": "setup.platform_field", "platform_identity": "setup.platform_identity",
	"direction": "setup.direction", "conflict": "setup.conflict", "channel_type": "setup.channel_type", "channel_id": "setup.channel_id",
	"operator": "setup.operator", "value": "setup.value", "values": "setup.value",
	"name_rule": "setup.name_rule", "value_map": "setup.value_map",
	"constants": "setup.create_constants", "owner": "setup.owner", "owner_id": "setup.owner_id",
	"record_type_id": "setup.record_type", "account_id": "setup.account_id", "on_duplicate": "setup.on_duplicate",
}

// topKeys name the paths that are neither a row nor an input of one.
var topKeys = map[string]string{"object": "setup.object", "create": "setup.create_heading"}

// pathLabel describes a validation path ("field_mappings[2].direction")
// in words: "Field mapping 3 · Direction".
func (s *server) pathLabel(lang, path string) string {
	m := pathRE.FindStringSubmatch(path)
	if m == nil {
		return ""
	}
	var parts []string
	if key, ok := topKeys[m[1]]; ok && m[3] == "" {
		if t, err := translate(lang, key); err == nil {
			parts = append(parts, t)
		}
	}
	if key, ok := rowKeys[m[1]]; ok && m[2] != "" {
		n, _ := strconv.Atoi(m[2])
		if t, err := translate(lang, key, n+1); err == nil {
			parts = append(parts, t)
		}
	}
	if key, ok := inputKeys[m[3]]; ok {
		if t, err := translate(lang, key); err == nil {
			parts = append(parts, t)
		}
	}
	return withPlatform(strings.Join(parts, " · "), s.platformName(lang))
}
