package sfemu

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/sfsync/sfsync/internal/soql"
)

// fieldDef is one field of an sObject, with the describe attributes the
// emulator serves and enforces.
type fieldDef struct {
	Name              string
	Label             string
	Type              string // describe type
	SoapType          string
	Length            int
	Precision, Scale  int
	Digits            int
	Nillable          bool
	Createable        bool
	Updateable        bool
	DefaultedOnCreate bool
	Unique            bool
	ExternalID        bool
	IDLookup          bool
	Filterable        bool
	Sortable          bool
	Groupable         bool
	Custom            bool
	CaseSensitive     bool
	Restricted        bool
	Calculated        bool
	NameField         bool
	Compound          string   // compoundFieldName
	ReferenceTo       []string // reference targets
	Relationship      string   // relationshipName
	Picklist          []string
	PicklistLabels    map[string]string // label by value, where they differ (describe only)
	FixedFLS          bool              // permissionable false though nillable and createable
	DefaultValue      any
	Hidden            bool // queryable relationship path stored denormalised; not in describe
	index             int
}

// objectDef is one sObject type as an org sees it.
type objectDef struct {
	Name        string
	Label       string
	LabelPlural string
	KeyPrefix   string
	Createable  bool
	Updateable  bool
	Deletable   bool
	Replicate   bool
	Searchable  bool
	Custom      bool
	// Tracked objects hold the org's data: they keep a change history and
	// publish change events (Contact, Lead, Account).
	Tracked bool
	fields  []*fieldDef
	byName  map[string]*fieldDef // lower-cased name
	// well-known field indexes (-1 when absent)
	idIdx, isDeletedIdx, nameIdx, createdIdx, createdByIdx, modifiedIdx, modifiedByIdx, modstampIdx, ownerIdx int
}

// aggregatable is the describe attribute of the same name: whether the
// field may be an aggregate function's argument. In the recorded describe
// of Contact (testdata/contact_describe.json) booleans, compound addresses
// and the long text area Description are not; short text areas are.
func (f *fieldDef) aggregatable() bool {
	switch f.Type {
	case "boolean", "address", "location", "multipicklist", "base64":
		return false
	case "textarea":
		return f.Filterable
	}
	return true
}

func (o *objectDef) field(name string) (*fieldDef, bool) {
	f, ok := o.byName[strings.ToLower(name)]
	return f, ok
}

func (o *objectDef) add(f *fieldDef) {
	f.index = len(o.fields)
	o.fields = append(o.fields, f)
	o.byName[strings.ToLower(f.Name)] = f
}

func (o *objectDef) finish() *objectDef {
	idx := func(n string) int {
		if f, ok := o.field(n); ok {
			return f.index
		}
		return -1
	}
	o.idIdx, o.isDeletedIdx, o.nameIdx = idx("Id"), idx("IsDeleted"), idx("Name")
	o.createdIdx, o.createdByIdx = idx("CreatedDate"), idx("CreatedById")
	o.modifiedIdx, o.modifiedByIdx, o.modstampIdx = idx("LastModifiedDate"), idx("LastModifiedById"), idx("SystemModstamp")
	o.ownerIdx = idx("OwnerId")
	return o
}

// clone copies the definition so an org can add fields to its own copy.
func (o *objectDef) clone() *objectDef {
	c := *o
	c.fields = nil
	c.byName = map[string]*fieldDef{}
	for _, f := range o.fields {
		cf := *f
		c.add(&cf)
	}
	return c.finish()
}

// Relationship fields (Owner.Email, ReportsTo.LastName) get virtual
// indexes: relBase + referenceFieldIndex*relStride + targetFieldIndex.
const (
	relBase   = 1 << 20
	relStride = 1 << 10
)

// soqlSchema adapts an objectDef to soql.Schema and soql.RelationshipSchema,
// resolving one level of parent relationships through the org's objects.
type soqlSchema struct {
	obj     *objectDef
	objects map[string]*objectDef // the org's objects by lower-cased name
	usedRel bool                  // a relationship field was resolved
}

func (s *soqlSchema) Object() string { return s.obj.Name }

func (s *soqlSchema) refField(rel string) (*fieldDef, bool) {
	for _, f := range s.obj.fields {
		// JigsawContactId has a relationshipName but no target: not a path.
		if f.Relationship != "" && len(f.ReferenceTo) > 0 && strings.EqualFold(f.Relationship, rel) {
			return f, true
		}
	}
	return nil, false
}

func (s *soqlSchema) Relationship(path string) (string, bool) {
	f, ok := s.refField(path)
	if !ok {
		return "", false
	}
	return f.ReferenceTo[0], true
}

func (s *soqlSchema) Field(name string) (soql.FieldInfo, bool) {
	if f, ok := s.obj.field(name); ok {
		return soql.FieldInfo{Name: f.Name, Type: f.Type, Index: f.index, Filterable: f.Filterable, Sortable: f.Sortable,
			Groupable: f.Groupable, Aggregatable: f.aggregatable()}, true
	}
	rel, col, dotted := strings.Cut(name, ".")
	if !dotted {
		return soql.FieldInfo{}, false
	}
	ref, ok := s.refField(rel)
	if !ok {
		return soql.FieldInfo{}, false
	}
	target, ok := s.objects[strings.ToLower(ref.ReferenceTo[0])]
	if !ok {
		return soql.FieldInfo{}, false
	}
	tf, ok := target.field(col)
	if !ok || tf.Hidden || tf.index >= relStride {
		return soql.FieldInfo{}, false
	}
	s.usedRel = true
	return soql.FieldInfo{Name: ref.Relationship + "." + tf.Name, Type: tf.Type, Index: relBase + ref.index*relStride + tf.index,
		Filterable: tf.Filterable, Sortable: tf.Sortable, Groupable: tf.Groupable, Aggregatable: tf.aggregatable()}, true
}

// fieldFor returns the fieldDef behind a resolved FieldInfo, making one
// for a relationship field.
func (s *soqlSchema) fieldFor(fi soql.FieldInfo) *fieldDef {
	if fi.Index < relBase {
		return s.obj.fields[fi.Index]
	}
	j := fi.Index - relBase
	ref := s.obj.fields[j/relStride]
	target := s.objects[strings.ToLower(ref.ReferenceTo[0])]
	f := *target.fields[j%relStride]
	f.Name = fi.Name
	f.index = fi.Index
	return &f
}

// relResolver reads parent records for relationship fields. Callers hold
// the org's read lock while using it.
type relResolver struct {
	obj    *objectDef
	tables map[string]*table
}

func (rs *relResolver) value(r *record, i int) any {
	if i < relBase {
		return r.Value(i)
	}
	j := i - relBase
	ref := rs.obj.fields[j/relStride]
	id, _ := r.Value(ref.index).(string)
	if id == "" {
		return nil
	}
	t := rs.tables[strings.ToLower(ref.ReferenceTo[0])]
	if t == nil {
		return nil
	}
	pr, _, ok := t.get(id)
	if !ok {
		return nil
	}
	return pr.Value(j % relStride)
}

// relRecord is a record seen through a resolver, for soql evaluation.
type relRecord struct {
	r  *record
	rs *relResolver
}

func (w *relRecord) Value(i int) any { return w.rs.value(w.r, i) }

var soapTypes = map[string]string{
	"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "string": "xsd:string", "picklist": "xsd:string",
	"multipicklist": "xsd:string", "combobox": "xsd:string", "textarea": "xsd:string", "email": "xsd:string",
	"phone": "xsd:string", "url": "xsd:string", "encryptedstring": "xsd:string", "double": "xsd:double",
	"currency": "xsd:double", "percent": "xsd:double", "int": "xsd:int", "long": "xsd:long", "date": "xsd:date",
	"datetime": "xsd:dateTime", "time": "xsd:time", "address": "urn:address", "location": "urn:location",
	"base64": "xsd:base64Binary", "anyType": "xsd:anyType",
}

// fd builds a field from a compact flag string, in the column order of
// §2.3.1: N nillable, C createable, U updateable, D defaultedOnCreate,
// Q unique, X externalId, L idLookup, F filterable, S sortable, G groupable.
func fd(name, typ string, length int, flags string) *fieldDef {
	f := &fieldDef{Name: name, Type: typ, SoapType: soapTypes[typ], Length: length, Label: labelFor(name)}
	for _, c := range flags {
		switch c {
		case 'N':
			f.Nillable = true
		case 'C':
			f.Createable = true
		case 'U':
			f.Updateable = true
		case 'D':
			f.DefaultedOnCreate = true
		case 'Q':
			f.Unique = true
		case 'X':
			f.ExternalID = true
		case 'L':
			f.IDLookup = true
		case 'F':
			f.Filterable = true
		case 'S':
			f.Sortable = true
		case 'G':
			f.Groupable = true
		}
	}
	if typ == "double" {
		f.Precision, f.Scale = 18, 15
	}
	return f
}

func (f *fieldDef) compound(c string) *fieldDef    { f.Compound = c; return f }
func (f *fieldDef) picklist(v ...string) *fieldDef { f.Picklist = v; return f }
func (f *fieldDef) ref(to, rel string) *fieldDef {
	f.ReferenceTo, f.Relationship = []string{to}, rel
	return f
}
func (f *fieldDef) label(l string) *fieldDef { f.Label = l; return f }

// restricted marks a restricted picklist; labels gives picklist labels
// that differ from their values; fixedFLS marks a field whose field-level
// security cannot be set (describe permissionable false); relName sets a
// relationshipName without a target.
func (f *fieldDef) restricted() *fieldDef                { f.Restricted = true; return f }
func (f *fieldDef) labels(l map[string]string) *fieldDef { f.PicklistLabels = l; return f }
func (f *fieldDef) fixedFLS() *fieldDef                  { f.FixedFLS = true; return f }
func (f *fieldDef) relName(name string) *fieldDef        { f.Relationship = name; return f }

var labelOverrides = map[string]string{
	"Id": "Contact ID", "IsDeleted": "Deleted", "Name": "Full Name", "OtherAddress": "Other Address",
	"MailingAddress": "Mailing Address", "Phone": "Business Phone", "Fax": "Business Fax",
	"OtherPhone": "Other Phone", "AssistantPhone": "Asst. Phone", "AssistantName": "Assistant's Name",
	"LastCURequestDate": "Last Stay-in-Touch Request Date", "LastCUUpdateDate": "Last Stay-in-Touch Save Date",
	"Jigsaw": "Data.com Key", "CleanStatus": "Clean Status", "PhotoUrl": "Photo URL",
	"EmailBouncedReason": "Email Bounced Reason", "EmailBouncedDate": "Email Bounced Date",
	"IsEmailBounced": "Is Email Bounced", "LastActivityDate": "Last Activity", "SystemModstamp": "System Modstamp",
	"Salutation": "Salutation", "OtherGeocodeAccuracy": "Other Geocode Accuracy",
	"MailingGeocodeAccuracy": "Mailing Geocode Accuracy", "OtherStreet": "Other Street", "MailingStreet": "Mailing Street",
	"OtherPostalCode": "Other Zip/Postal Code", "MailingPostalCode": "Mailing Zip/Postal Code",
	"OtherState": "Other State/Province", "MailingState": "Mailing State/Province",
	"Description": "Contact Description",
}

// labelFor splits an API name into words: "MailingCity" → "Mailing City",
// "OwnerId" → "Owner ID", "LINE_UID__c" → "LINE UID".
func labelFor(name string) string {
	if l, ok := labelOverrides[name]; ok {
		return l
	}
	name = strings.TrimSuffix(name, "__c")
	if strings.Contains(name, "_") {
		return strings.ReplaceAll(name, "_", " ")
	}
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	l := b.String()
	if strings.HasSuffix(l, " Id") {
		l = strings.TrimSuffix(l, " Id") + " ID"
	}
	return l
}

var geocodeValues = []string{"Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip", "Neighborhood", "City", "County", "State", "Unknown"}

// contactObject is the standard Contact object of §2.3.1 (59 fields),
// attribute for attribute as in a describe recorded from a real org
// (testdata/contact_describe.json, checked by
// TestDescribeContactMatchesRealOrg).
func contactObject() *objectDef {
	o := &objectDef{Name: ObjContact, Label: "Contact", LabelPlural: "Contacts", KeyPrefix: "003",
		Createable: true, Updateable: true, Deletable: true, Replicate: true, Searchable: true, Tracked: true, byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG"),
		fd("IsDeleted", "boolean", 0, "DFSG"),
		fd("MasterRecordId", "reference", 18, "NFSG").ref("Contact", "MasterRecord").label("Master Record ID"),
		fd("AccountId", "reference", 18, "NCUFSG").ref("Account", "Account"),
		fd("LastName", "string", 80, "CUFSG").compound("Name"),
		fd("FirstName", "string", 40, "NCUFSG").compound("Name").fixedFLS(),
		fd("Salutation", "picklist", 40, "NCUFSG").compound("Name").picklist("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.").fixedFLS(),
		fd("Name", "string", 121, "FSG"),
		fd("OtherStreet", "textarea", 255, "NCUFSG").compound("OtherAddress"),
		fd("OtherCity", "string", 40, "NCUFSG").compound("OtherAddress"),
		fd("OtherState", "string", 80, "NCUFSG").compound("OtherAddress"),
		fd("OtherPostalCode", "string", 20, "NCUFSG").compound("OtherAddress"),
		fd("OtherCountry", "string", 80, "NCUFSG").compound("OtherAddress"),
		fd("OtherLatitude", "double", 0, "NCUFS").compound("OtherAddress"),
		fd("OtherLongitude", "double", 0, "NCUFS").compound("OtherAddress"),
		fd("OtherGeocodeAccuracy", "picklist", 40, "NCUFSG").compound("OtherAddress").picklist(geocodeValues...).restricted(),
		fd("OtherAddress", "address", 0, "NF"),
		fd("MailingStreet", "textarea", 255, "NCUFSG").compound("MailingAddress"),
		fd("MailingCity", "string", 40, "NCUFSG").compound("MailingAddress"),
		fd("MailingState", "string", 80, "NCUFSG").compound("MailingAddress"),
		fd("MailingPostalCode", "string", 20, "NCUFSG").compound("MailingAddress"),
		fd("MailingCountry", "string", 80, "NCUFSG").compound("MailingAddress"),
		fd("MailingLatitude", "double", 0, "NCUFS").compound("MailingAddress"),
		fd("MailingLongitude", "double", 0, "NCUFS").compound("MailingAddress"),
		fd("MailingGeocodeAccuracy", "picklist", 40, "NCUFSG").compound("MailingAddress").picklist(geocodeValues...).restricted(),
		fd("MailingAddress", "address", 0, "NF"),
		fd("Phone", "phone", 40, "NCUFSG"),
		fd("Fax", "phone", 40, "NCUFSG"),
		fd("MobilePhone", "phone", 40, "NCUFSG"),
		fd("HomePhone", "phone", 40, "NCUFSG"),
		fd("OtherPhone", "phone", 40, "NCUFSG"),
		fd("AssistantPhone", "phone", 40, "NCUFSG"),
		fd("ReportsToId", "reference", 18, "NCUFSG").ref("Contact", "ReportsTo"),
		fd("Email", "email", 80, "NCULFSG"),
		fd("Title", "string", 128, "NCUFSG"),
		fd("Department", "string", 80, "NCUFSG"),
		fd("AssistantName", "string", 40, "NCUFSG"),
		fd("LeadSource", "picklist", 255, "NCUFSG").picklist("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"),
		fd("Birthdate", "date", 0, "NCUFSG"),
		fd("Description", "textarea", 32000, "NCU"),
		fd("OwnerId", "reference", 18, "CUDFSG").ref("User", "Owner"),
		fd("CreatedDate", "datetime", 0, "DFS"),
		fd("CreatedById", "reference", 18, "DFSG").ref("User", "CreatedBy"),
		fd("LastModifiedDate", "datetime", 0, "DFS"),
		fd("LastModifiedById", "reference", 18, "DFSG").ref("User", "LastModifiedBy"),
		fd("SystemModstamp", "datetime", 0, "DFS"),
		fd("LastActivityDate", "date", 0, "NFSG"),
		fd("LastCURequestDate", "datetime", 0, "NFS"),
		fd("LastCUUpdateDate", "datetime", 0, "NFS"),
		fd("LastViewedDate", "datetime", 0, "NFS"),
		fd("LastReferencedDate", "datetime", 0, "NFS"),
		fd("EmailBouncedReason", "string", 255, "NCUFSG").fixedFLS(),
		fd("EmailBouncedDate", "datetime", 0, "NCUFS").fixedFLS(),
		fd("IsEmailBounced", "boolean", 0, "DFSG"),
		fd("PhotoUrl", "url", 255, "NFSG"),
		fd("Jigsaw", "string", 20, "NCUFSG"),
		fd("JigsawContactId", "string", 20, "NFSG").label("Jigsaw Contact ID").relName("JigsawContact"),
		fd("CleanStatus", "picklist", 40, "NCUFSG").picklist("Matched", "Different", "Acknowledged", "NotFound", "Inactive", "Pending", "SelectMatch", "Skipped").
			labels(map[string]string{"Matched": "In Sync", "Acknowledged": "Reviewed", "NotFound": "Not Found", "Pending": "Not Compared", "SelectMatch": "Select Match"}).restricted(),
		fd("IndividualId", "reference", 18, "NCUFSG").ref("Individual", "Individual").fixedFLS(),
	} {
		o.add(f)
	}
	if f, ok := o.field("Name"); ok {
		f.NameField = true
	}
	return o.finish()
}

// CustomField describes a custom Contact field.
type CustomField struct {
	Name  string // API name ending in __c
	Label string // derived from Name when empty
	// Type is a describe type: string, textarea, email, phone, url, picklist,
	// multipicklist, boolean, double, date, datetime.
	Type          string
	Length        int // for text types; 255 when zero (textarea 32768)
	ExternalID    bool
	Unique        bool
	CaseSensitive bool
	Required      bool
	Picklist      []string
	Restricted    bool // restricted picklist
}

// DefaultCustomFields are the custom Contact fields every org gets unless
// OrgOptions.CustomFields says otherwise.
func DefaultCustomFields() []CustomField {
	return []CustomField{
		{Name: "Member_Number__c", Label: "Member Number", Type: "string", Length: 40, ExternalID: true, Unique: true},
		{Name: "LINE_UID__c", Label: "LINE UID", Type: "string", Length: 64},
		{Name: "Facebook_PSID__c", Label: "Facebook PSID", Type: "string", Length: 64},
		{Name: "Customer_Since__c", Label: "Customer Since", Type: "date"},
		{Name: "Tier__c", Label: "Tier", Type: "picklist", Picklist: []string{"Gold", "Silver", "Bronze"}, Restricted: true},
	}
}

var customNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*__c$`)

func (c CustomField) def() (*fieldDef, error) {
	if !customNameRE.MatchString(c.Name) {
		return nil, fmt.Errorf("custom field name %q must be letters, digits and single underscores ending in __c", c.Name)
	}
	typ := c.Type
	if typ == "" {
		typ = "string"
	}
	if _, ok := soapTypes[typ]; !ok || typ == "id" || typ == "reference" || typ == "address" {
		return nil, fmt.Errorf("custom field %s: unsupported type %q", c.Name, typ)
	}
	length := c.Length
	switch typ {
	case "string", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring":
		if length <= 0 {
			length = 255
		}
		switch typ {
		case "email":
			length = 80
		case "phone":
			length = 40
		}
	case "textarea":
		if length <= 0 {
			length = 32768
		}
	default:
		length = 0
	}
	if (typ == "picklist" || typ == "multipicklist") && len(c.Picklist) == 0 {
		return nil, fmt.Errorf("custom field %s: a picklist needs values", c.Name)
	}
	f := &fieldDef{Name: c.Name, Label: c.Label, Type: typ, SoapType: soapTypes[typ], Length: length, Custom: true,
		Nillable: !c.Required && typ != "boolean", Createable: true, Updateable: true, Filterable: typ != "textarea" && typ != "multipicklist",
		Sortable: typ != "textarea" && typ != "multipicklist", Groupable: typ != "textarea" && typ != "double" && typ != "datetime" && typ != "multipicklist",
		ExternalID: c.ExternalID, Unique: c.Unique, CaseSensitive: c.Unique && c.CaseSensitive, Picklist: c.Picklist, Restricted: c.Restricted}
	if c.ExternalID {
		f.IDLookup = true
	}
	if typ == "boolean" {
		f.DefaultedOnCreate, f.DefaultValue = true, false
	}
	if typ == "double" {
		f.Precision, f.Scale = 18, 0
	}
	if f.Label == "" {
		f.Label = labelFor(c.Name)
	}
	if c.ExternalID || c.Unique {
		switch typ {
		case "string", "email", "double":
		default:
			return nil, fmt.Errorf("custom field %s: only text, email and number fields can be external ids or unique", c.Name)
		}
	}
	return f, nil
}

// systemObjects are the read-only objects the emulator answers queries on.
func userObject() *objectDef {
	o := &objectDef{Name: "User", Label: "User", LabelPlural: "Users", KeyPrefix: "005", Replicate: true, Searchable: true, byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("User ID"),
		fd("Username", "string", 80, "CULQFSG"),
		fd("LastName", "string", 80, "CUFSG"),
		fd("FirstName", "string", 40, "NCUFSG"),
		fd("Name", "string", 121, "FSG").label("Full Name"),
		fd("Email", "email", 128, "CUFSG"),
		fd("Alias", "string", 8, "CUFSG"),
		fd("IsActive", "boolean", 0, "CUDFSG").label("Active"),
		fd("ProfileId", "reference", 18, "CUFSG").ref("Profile", "Profile"),
		fd("UserType", "picklist", 40, "NDFSG").picklist("Standard", "PowerPartner", "CspLitePortal", "CustomerSuccess", "PowerCustomerSuccess", "CsnOnly", "Guest"),
		fd("TimeZoneSidKey", "picklist", 40, "CUFSG").picklist("Asia/Taipei", "America/Los_Angeles", "Europe/London", "GMT"),
		fd("LocaleSidKey", "picklist", 40, "CUFSG").picklist("en_US", "zh_TW"),
		fd("LanguageLocaleKey", "picklist", 40, "CUFSG").picklist("en_US", "zh_TW"),
		fd("EmailEncodingKey", "picklist", 40, "CUFSG").picklist("UTF-8"),
		fd("UserPermissionsApiUser", "boolean", 0, "FSG").label("API User"),
		fd("CreatedDate", "datetime", 0, "DFS"),
		fd("CreatedById", "reference", 18, "DFSG").ref("User", "CreatedBy"),
		fd("LastModifiedDate", "datetime", 0, "DFS"),
		fd("LastModifiedById", "reference", 18, "DFSG").ref("User", "LastModifiedBy"),
		fd("SystemModstamp", "datetime", 0, "DFS"),
	} {
		o.add(f)
	}
	return o.finish()
}

func organizationObject() *objectDef {
	o := &objectDef{Name: "Organization", Label: "Organization", LabelPlural: "Organizations", KeyPrefix: "00D", byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("Organization ID"),
		fd("Name", "string", 80, "UFSG"),
		fd("OrganizationType", "picklist", 40, "NFSG").label("Edition").picklist("Developer Edition", "Professional Edition", "Enterprise Edition", "Unlimited Edition"),
		fd("IsSandbox", "boolean", 0, "DFSG"),
		fd("InstanceName", "string", 5, "NFSG"),
		fd("TimeZoneSidKey", "picklist", 40, "UFSG").picklist("Asia/Taipei", "America/Los_Angeles", "Europe/London", "GMT"),
		fd("LanguageLocaleKey", "picklist", 40, "UFSG").picklist("en_US", "zh_TW"),
		fd("DefaultLocaleSidKey", "picklist", 40, "UFSG").picklist("en_US", "zh_TW"),
		fd("Country", "string", 80, "NUFSG"),
		fd("NamespacePrefix", "string", 15, "NFSG"),
		fd("TrialExpirationDate", "datetime", 0, "NFS"),
		fd("CreatedDate", "datetime", 0, "DFS"),
		fd("CreatedById", "reference", 18, "DFSG").ref("User", "CreatedBy"),
		fd("LastModifiedDate", "datetime", 0, "DFS"),
		fd("LastModifiedById", "reference", 18, "DFSG").ref("User", "LastModifiedBy"),
		fd("SystemModstamp", "datetime", 0, "DFS"),
	} {
		o.add(f)
	}
	return o.finish()
}

func profileObject() *objectDef {
	o := &objectDef{Name: "Profile", Label: "Profile", LabelPlural: "Profiles", KeyPrefix: "00e", byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("Profile ID"),
		fd("Name", "string", 255, "CUFSG"),
		fd("UserType", "picklist", 40, "NFSG").picklist("Standard"),
		fd("PermissionsModifyAllData", "boolean", 0, "CUDFSG").label("Modify All Data"),
		fd("PermissionsCustomizeApplication", "boolean", 0, "CUDFSG").label("Customize Application"),
		fd("PermissionsApiEnabled", "boolean", 0, "CUDFSG").label("API Enabled"),
	} {
		o.add(f)
	}
	return o.finish()
}

func permissionSetObject() *objectDef {
	o := &objectDef{Name: "PermissionSet", Label: "Permission Set", LabelPlural: "Permission Sets", KeyPrefix: "0PS", byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("Permission Set ID"),
		fd("Name", "string", 80, "CUFSG"),
		fd("Label", "string", 80, "CUFSG"),
		fd("IsOwnedByProfile", "boolean", 0, "DFSG"),
		fd("ProfileId", "reference", 18, "NFSG").ref("Profile", "Profile"),
		fd("PermissionsModifyAllData", "boolean", 0, "CUDFSG").label("Modify All Data"),
		fd("PermissionsCustomizeApplication", "boolean", 0, "CUDFSG").label("Customize Application"),
		fd("PermissionsViewSetup", "boolean", 0, "CUDFSG").label("View Setup and Configuration"),
		fd("PermissionsApiEnabled", "boolean", 0, "CUDFSG").label("API Enabled"),
	} {
		o.add(f)
	}
	return o.finish()
}

// psaPermFields are PermissionSet fields reachable from
// PermissionSetAssignment as PermissionSet.<field>; they are stored on the
// assignment rows so the §1.7 admin check can filter on them.
var psaPermFields = []string{"Name", "IsOwnedByProfile", "ProfileId", "PermissionsModifyAllData", "PermissionsCustomizeApplication", "PermissionsViewSetup", "PermissionsApiEnabled"}

func permissionSetAssignmentObject() *objectDef {
	o := &objectDef{Name: "PermissionSetAssignment", Label: "Permission Set Assignment", LabelPlural: "Permission Set Assignments", KeyPrefix: "0Pa", byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("Permission Set Assignment ID"),
		fd("AssigneeId", "reference", 18, "CFSG").ref("User", "Assignee"),
		fd("PermissionSetId", "reference", 18, "CFSG").ref("PermissionSet", "PermissionSet"),
		fd("SystemModstamp", "datetime", 0, "DFS"),
	} {
		o.add(f)
	}
	ps := permissionSetObject()
	for _, n := range psaPermFields {
		src, _ := ps.field(n)
		f := *src
		f.Name = "PermissionSet." + src.Name
		f.Hidden = true
		o.add(&f)
	}
	return o.finish()
}

// userPermissionAccessObject is computed per caller: one row with the
// calling user's effective permissions.
func userPermissionAccessObject() *objectDef {
	o := &objectDef{Name: "UserPermissionAccess", Label: "User Permission Access", LabelPlural: "User Permission Access", KeyPrefix: "", byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG"),
		fd("PermissionsModifyAllData", "boolean", 0, "DFSG").label("Modify All Data"),
		fd("PermissionsCustomizeApplication", "boolean", 0, "DFSG").label("Customize Application"),
		fd("PermissionsViewSetup", "boolean", 0, "DFSG").label("View Setup and Configuration"),
		fd("PermissionsApiEnabled", "boolean", 0, "DFSG").label("API Enabled"),
	} {
		o.add(f)
	}
	return o.finish()
}
