package salesforce

// SObjectDescribe is the decoded body of
// GET /services/data/vXX.X/sobjects/{name}/describe. Only the keys sfsync
// uses are decoded; Salesforce sends many more.
type SObjectDescribe struct {
	Name          string  `json:"name"`
	Label         string  `json:"label"`
	KeyPrefix     string  `json:"keyPrefix"`
	Createable    bool    `json:"createable"`
	Updateable    bool    `json:"updateable"`
	Deletable     bool    `json:"deletable"`
	Queryable     bool    `json:"queryable"`
	Replicateable bool    `json:"replicateable"`
	Fields        []Field `json:"fields"`
	// RecordTypeInfos are the object's record types available to the
	// connected user (the master record type among them).
	RecordTypeInfos []RecordTypeInfo `json:"recordTypeInfos"`
}

// RecordTypeInfo is one entry of a describe's "recordTypeInfos".
type RecordTypeInfo struct {
	Name                     string `json:"name"`
	DeveloperName            string `json:"developerName"`
	RecordTypeID             string `json:"recordTypeId"`
	Active                   bool   `json:"active"`
	Available                bool   `json:"available"`
	DefaultRecordTypeMapping bool   `json:"defaultRecordTypeMapping"`
	Master                   bool   `json:"master"`
}

// Field is one entry of a describe's "fields" array.
type Field struct {
	Name               string          `json:"name"`
	Label              string          `json:"label"`
	Type               string          `json:"type"` // id, boolean, reference, string, picklist, multipicklist, combobox, textarea, address, double, currency, percent, int, long, date, datetime, time, email, phone, url, ...
	SoapType           string          `json:"soapType"`
	Length             int             `json:"length"`
	ByteLength         int             `json:"byteLength"`
	Precision          int             `json:"precision"`
	Scale              int             `json:"scale"`
	Digits             int             `json:"digits"`
	Nillable           bool            `json:"nillable"`
	Createable         bool            `json:"createable"`
	Updateable         bool            `json:"updateable"`
	DefaultedOnCreate  bool            `json:"defaultedOnCreate"`
	Unique             bool            `json:"unique"`
	ExternalID         bool            `json:"externalId"`
	IDLookup           bool            `json:"idLookup"`
	Filterable         bool            `json:"filterable"`
	Sortable           bool            `json:"sortable"`
	Groupable          bool            `json:"groupable"`
	Calculated         bool            `json:"calculated"`
	AutoNumber         bool            `json:"autoNumber"`
	Custom             bool            `json:"custom"`
	CaseSensitive      bool            `json:"caseSensitive"`
	CompoundFieldName  *string         `json:"compoundFieldName"`
	RestrictedPicklist bool            `json:"restrictedPicklist"`
	PicklistValues     []PicklistValue `json:"picklistValues"`
	ReferenceTo        []string        `json:"referenceTo"`
	RelationshipName   *string         `json:"relationshipName"`
}

// PicklistValue is one allowed value of a picklist field.
type PicklistValue struct {
	Active       bool   `json:"active"`
	DefaultValue bool   `json:"defaultValue"`
	Label        string `json:"label"`
	Value        string `json:"value"`
}

// Field returns the describe entry named name (case-insensitive, as
// Salesforce treats field names), and whether it exists.
func (d *SObjectDescribe) Field(name string) (Field, bool) {
	for _, f := range d.Fields {
		if equalFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

// SameID reports whether two record Ids name the same record: an 18-character
// Id is its 15-character form plus a case-safe suffix.
func SameID(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return a == b
	}
	return a[:15] == b[:15]
}
