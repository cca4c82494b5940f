package sfemu

import (
	"net/http"
)

func (s *Server) describeGlobal(w http.ResponseWriter, c *call) {
	var list []any
	for _, key := range objectOrder {
		obj, _ := c.org.object(key)
		list = append(list, globalEntry(c, obj))
	}
	writeRaw(w, 200, orderedJSON{{"encoding", "UTF-8"}, {"maxBatchSize", 200}, {"sobjects", list}}.marshal())
}

func objectURLs(c *call, obj *objectDef, full bool) map[string]string {
	v := c.vpath() + "/sobjects/" + obj.Name
	u := map[string]string{"sobject": v, "describe": v + "/describe", "rowTemplate": v + "/{ID}"}
	if full {
		base := c.s.base(c.r)
		u["compactLayouts"] = v + "/describe/compactLayouts"
		u["approvalLayouts"] = v + "/describe/approvalLayouts"
		u["uiDetailTemplate"] = base + "/{ID}"
		u["uiEditTemplate"] = base + "/{ID}/e"
		u["listviews"] = v + "/listviews"
		u["uiNewRecord"] = base + "/" + obj.KeyPrefix + "/e"
		u["quickActions"] = v + "/quickActions"
		u["layouts"] = v + "/describe/layouts"
	}
	return u
}

// globalEntry is one sobjects entry of Describe Global (alphabetical keys).
func globalEntry(c *call, obj *objectDef) map[string]any {
	var prefix any = obj.KeyPrefix
	if obj.KeyPrefix == "" {
		prefix = nil
	}
	return map[string]any{
		"activateable": false, "associateEntityType": nil, "associateParentEntity": nil, "createable": obj.Createable,
		"custom": obj.Custom, "customSetting": false, "deepCloneable": false, "deletable": obj.Deletable,
		"deprecatedAndHidden": false, "feedEnabled": obj.Tracked || obj.Name == "User", "hasSubtypes": false,
		"isInterface": false, "isSubtype": false, "keyPrefix": prefix, "label": obj.Label, "labelPlural": obj.LabelPlural,
		"layoutable": obj.Createable, "mergeable": obj.Tracked, "mruEnabled": obj.Createable, "name": obj.Name,
		"queryable": true, "replicateable": obj.Replicate, "retrieveable": true, "searchable": obj.Searchable,
		"triggerable": obj.Createable, "undeletable": obj.Deletable, "updateable": obj.Updateable,
		"urls": objectURLs(c, obj, false),
	}
}

// describeObject renders sObject Describe with Salesforce's top-level keys.
func describeObject(c *call, obj *objectDef) map[string]any {
	c.org.mu.RLock()
	fields := make([]any, 0, len(obj.fields))
	for _, f := range obj.fields {
		if !f.Hidden {
			fields = append(fields, describeField(f))
		}
	}
	c.org.mu.RUnlock()
	d := globalEntry(c, obj)
	d["actionOverrides"] = []any{}
	d["childRelationships"] = childRelationships(obj)
	d["compactLayoutable"] = obj.Createable
	d["defaultImplementation"] = nil
	d["extendedBy"] = nil
	d["extendsInterfaces"] = nil
	d["fields"] = fields
	d["implementedBy"] = nil
	d["implementsInterfaces"] = nil
	d["listviewable"] = nil
	d["lookupLayoutable"] = nil
	d["namedLayoutInfos"] = []any{}
	d["networkScopeFieldName"] = nil
	d["recordTypeInfos"] = recordTypeInfos(c, obj)
	d["searchLayoutable"] = obj.Searchable
	d["sobjectDescribeOption"] = "FULL"
	d["supportedScopes"] = []any{}
	if obj.Name == "Contact" {
		d["supportedScopes"] = []any{
			map[string]string{"label": "All contacts", "name": "everything"}, map[string]string{"label": "My contacts", "name": "mine"},
			map[string]string{"label": "Filter by scope", "name": "scopingRule"}, map[string]string{"label": "My team's contacts", "name": "team"},
		}
	}
	d["urls"] = objectURLs(c, obj, true)
	return d
}

// recordTypeInfos lists an object's record types; the master record type
// is available only when the object has no others, and the first active
// business type is the default mapping.
func recordTypeInfos(c *call, obj *objectDef) []any {
	c.org.mu.RLock()
	rts := c.org.recordTypesLocked(obj.Name)
	def, hasDef := c.org.defaultRecordTypeLocked(obj.Name)
	c.org.mu.RUnlock()
	info := func(id, dev, name string, active, available, isDefault, master bool) map[string]any {
		return map[string]any{
			"active": active, "available": available, "defaultRecordTypeMapping": isDefault, "developerName": dev, "master": master,
			"name": name, "recordTypeId": id,
			"urls": map[string]string{"layout": c.vpath() + "/sobjects/" + obj.Name + "/describe/layouts/" + id},
		}
	}
	var out []any
	for _, rt := range rts {
		out = append(out, info(rt.ID, rt.DeveloperName, rt.Name, rt.Active, rt.Active, hasDef && rt.ID == def.ID, false))
	}
	return append(out, info("012000000000000AAA", "Master", "Master", true, len(rts) == 0, !hasDef, true))
}

func childRelationships(obj *objectDef) []any {
	if obj.Name != "Contact" {
		return []any{}
	}
	rel := func(child, field, name string, cascade bool) map[string]any {
		var n any = name
		if name == "" {
			n = nil
		}
		return map[string]any{"cascadeDelete": cascade, "childSObject": child, "deprecatedAndHidden": false, "field": field,
			"junctionIdListNames": []any{}, "junctionReferenceTo": []any{}, "relationshipName": n, "restrictedDelete": false}
	}
	return []any{
		rel("Contact", "MasterRecordId", "", false),
		rel("Contact", "ReportsToId", "", false),
	}
}

// describeField renders one field entry with all 57 keys (alphabetical).
func describeField(f *fieldDef) map[string]any {
	// The rules below are read off a describe recorded from a real org
	// (testdata/contact_describe.json).
	byteLength := 0
	switch {
	case f.Type == "id" || f.Type == "reference":
		byteLength = 18 // ids are ASCII: one byte a character
	case isStringType(f.Type):
		byteLength = f.Length * 3
	}
	picklist := []any{}
	for i, v := range f.Picklist {
		label := v
		if l, ok := f.PicklistLabels[v]; ok {
			label = l
		}
		picklist = append(picklist, map[string]any{"active": true, "defaultValue": i == 0 && f.DefaultValue != nil, "label": label, "validFor": nil, "value": v})
	}
	refTo := []string{}
	if f.ReferenceTo != nil {
		refTo = f.ReferenceTo
	}
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var extra any
	switch {
	case f.Type == "textarea":
		extra = "plaintextarea"
	case f.Compound == "Name" || f.Name == "Name" && f.NameField:
		extra = "personname"
	case f.Type == "url" && f.Name == "PhotoUrl":
		extra = "imageurl"
	}
	var defVal any
	if f.Type == "boolean" {
		b, _ := f.DefaultValue.(bool) // checkboxes default to false
		defVal = b
	}
	digits := 0
	if f.Type == "int" {
		digits = 9
	}
	return map[string]any{
		"aggregatable": f.aggregatable(), "aiPredictionField": false,
		"autoNumber": false, "byteLength": byteLength, "calculated": f.Calculated, "calculatedFormula": nil,
		"cascadeDelete": false, "caseSensitive": f.CaseSensitive, "compoundFieldName": nullable(f.Compound),
		"controllerName": nil, "createable": f.Createable, "custom": f.Custom, "defaultValue": defVal,
		"defaultValueFormula": nil, "defaultedOnCreate": f.DefaultedOnCreate, "dependentPicklist": false,
		"deprecatedAndHidden": false, "digits": digits, "displayLocationInDecimal": false, "encrypted": false,
		"externalId": f.ExternalID, "extraTypeInfo": extra, "filterable": f.Filterable, "filteredLookupInfo": nil,
		"formulaTreatNullNumberAsZero": false, "groupable": f.Groupable, "highScaleNumber": false,
		"htmlFormatted": false, "idLookup": f.IDLookup, "inlineHelpText": nil, "label": f.Label,
		"length": f.Length, "mask": nil, "maskType": nil, "name": f.Name, "nameField": f.NameField,
		"namePointing": false, "nillable": f.Nillable,
		"permissionable": (f.Nillable && (f.Createable || f.Custom) || f.Type == "address") && !f.FixedFLS,
		"picklistValues": picklist, "polymorphicForeignKey": false, "precision": f.Precision,
		"queryByDistance": f.Type == "address" || f.Type == "location", "referenceTargetField": nil, "referenceTo": refTo,
		"relationshipName": nullable(f.Relationship), "relationshipOrder": nil, "restrictedDelete": false,
		"restrictedPicklist": f.Restricted, "scale": f.Scale, "searchPrefilterable": f.Type == "reference" && f.Nillable && f.Createable,
		"soapType": f.SoapType, "sortable": f.Sortable, "type": f.Type, "unique": f.Unique,
		"updateable": f.Updateable, "writeRequiresMasterRead": false,
	}
}
