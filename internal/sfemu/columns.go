package sfemu

import (
	"encoding/json"
	"strings"
)

// queryColumn is one entry of the columnMetadata that
// GET /query?q=...&columns=true answers instead of records. The REST
// reference does not document the parameter, but the Developer Console and
// the sf CLI (`sf data query`, to name its table and CSV columns) rely on
// it; the shape follows the real answers recorded in the sf CLI's
// plugin-data tests (test/test-files/queryFields.exemplars.ts).
type queryColumn struct {
	Aggregate      bool          `json:"aggregate"`
	ApexType       *string       `json:"apexType"`
	BooleanType    bool          `json:"booleanType"`
	ColumnName     string        `json:"columnName"`
	Custom         bool          `json:"custom"`
	DisplayName    string        `json:"displayName"`
	ForeignKeyName *string       `json:"foreignKeyName"`
	Insertable     bool          `json:"insertable"`
	JoinColumns    []queryColumn `json:"joinColumns"`
	NumberType     bool          `json:"numberType"`
	TextType       bool          `json:"textType"`
	Updatable      bool          `json:"updatable"`
}

// apexTypes maps describe types to the Apex type columnMetadata names.
var apexTypes = map[string]string{
	"id": "Id", "reference": "Id", "string": "String", "picklist": "String", "multipicklist": "String",
	"combobox": "String", "textarea": "String", "email": "String", "phone": "String", "url": "String",
	"encryptedstring": "String", "boolean": "Boolean", "double": "Double", "percent": "Double",
	"currency": "Decimal", "int": "Integer", "long": "Long", "date": "Date", "datetime": "Datetime",
	"time": "Time", "address": "Address", "location": "Location", "base64": "Blob",
}

func fieldColumn(f *fieldDef, name string) queryColumn {
	col := queryColumn{ColumnName: name, DisplayName: name, Custom: f.Custom, Insertable: f.Createable,
		Updatable: f.Updateable, JoinColumns: []queryColumn{}, BooleanType: f.Type == "boolean"}
	if t, ok := apexTypes[f.Type]; ok {
		col.ApexType = &t
		col.TextType = t == "String"
	}
	switch f.Type {
	case "int", "long", "double", "currency", "percent":
		col.NumberType = true
	}
	return col
}

// queryColumns answers GET /query?q=...&columns=true: the columns of the
// query's result and facts about its FROM object, without running it.
func (c *call) queryColumns(src string) ([]byte, *apiError) {
	cq, e := c.compile(src)
	if e != nil {
		return nil, e
	}
	cols := []queryColumn{}
	idSelected := false
	rels := map[string]int{} // relationship name -> index in cols
	for _, fi := range cq.plan.Fields {
		f := cq.schema.fieldFor(fi)
		rel, name, dotted := strings.Cut(fi.Name, ".")
		if !dotted {
			idSelected = idSelected || fi.Name == "Id"
			cols = append(cols, fieldColumn(f, fi.Name))
			continue
		}
		i, ok := rels[rel]
		if !ok {
			ref, _ := cq.schema.refField(rel)
			fk := ref.Name
			cols = append(cols, queryColumn{ColumnName: rel, DisplayName: rel, ForeignKeyName: &fk, JoinColumns: []queryColumn{}})
			i = len(cols) - 1
			rels[rel] = i
		}
		cols[i].JoinColumns = append(cols[i].JoinColumns, fieldColumn(f, name))
	}
	if cq.plan.Grouped {
		// An aggregate query: grouped fields keep their own metadata,
		// functions are named by alias or exprN and shown as written.
		for i, col := range cq.plan.Columns {
			if col.Func == "" {
				cols = append(cols, fieldColumn(cq.schema.fieldFor(col.Field), col.Name))
				continue
			}
			display := col.Func + "(" + col.Field.Name + ")"
			if i < len(cq.q.Select) && cq.q.Select[i].Func != "" {
				display = asWritten(cq.q.Source, cq.q.Select[i].FuncPos.Offset, display)
			}
			c := queryColumn{Aggregate: true, ColumnName: col.Name, DisplayName: display, JoinColumns: []queryColumn{}}
			switch col.Type {
			case "int", "long", "double", "currency", "percent":
				c.NumberType = true
			case "boolean":
				c.BooleanType = true
			default:
				c.TextType = apexTypes[col.Type] == "String"
			}
			cols = append(cols, c)
		}
	}
	var keyPrefix *string
	if cq.obj.KeyPrefix != "" {
		keyPrefix = &cq.obj.KeyPrefix
	}
	b, err := json.Marshal(struct {
		ColumnMetadata []queryColumn `json:"columnMetadata"`
		EntityName     string        `json:"entityName"`
		GroupBy        bool          `json:"groupBy"`
		IDSelected     bool          `json:"idSelected"`
		KeyPrefix      *string       `json:"keyPrefix"`
	}{cols, cq.obj.Name, len(cq.q.GroupBy) > 0, idSelected, keyPrefix})
	if err != nil {
		return nil, plainErr(500, "UNKNOWN_EXCEPTION", err.Error())
	}
	return b, nil
}

// asWritten returns the aggregate call starting at off as the query
// spells it ("count(Id)"), or fallback when there is no call there.
func asWritten(src string, off int, fallback string) string {
	if off < 0 || off >= len(src) {
		return fallback
	}
	end := strings.IndexByte(src[off:], ')')
	if end < 0 {
		return fallback
	}
	return src[off : off+end+1]
}
