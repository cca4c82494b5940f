package syncconf

import (
	"fmt"
	"strconv"
	"strings"
)

// Step names the wizard step a validation error belongs to.
type Step string

// Wizard steps (seed: 步驟二…步驟五).
const (
	StepIdentity   Step = "identity"
	StepSocial     Step = "social"
	StepFields     Step = "fields"
	StepConditions Step = "conditions"
)

// Languages of the messages carried by ValidationError and RecordError.
const (
	LangEN   = "en"
	LangZHTW = "zh-TW"
)

// ValidationError is one problem found in a Config at save time (S13).
type ValidationError struct {
	Step Step `json:"step"`
	// Path is the JSON path of the offending value, e.g.
	// "field_mappings[2].salesforce_field".
	Path string `json:"path"`
	// Code is a stable machine code, e.g. "field_not_updateable".
	Code string `json:"code"`
	// Message holds the text to show, keyed by language (LangEN, LangZHTW).
	Message map[string]string `json:"message"`
}

func (e ValidationError) Error() string {
	return e.Path + ": " + e.Message[LangEN]
}

// ValidationErrors is every problem found in a Config, in the order of the
// wizard's steps. A nil or empty list is never returned as an error.
type ValidationErrors []ValidationError

func (es ValidationErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Has reports whether the list holds an error with this code at this path.
func (es ValidationErrors) Has(path, code string) bool {
	for _, e := range es {
		if e.Path == path && e.Code == code {
			return true
		}
	}
	return false
}

func (es ValidationErrors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

type messageTemplate struct{ en, zh string }

// messages holds the text of every code; the arguments are the same, in
// the same order, for both languages.
var messages = map[string]messageTemplate{
	// Shared.
	"required":      {"a value is required", "此欄位為必填"},
	"unknown_field": {"Salesforce Contact has no field %q", "Salesforce 聯絡人沒有「%s」欄位"},
	"field_not_filterable": {"Salesforce field %s cannot be used in a query filter",
		"Salesforce 欄位「%s」無法用於查詢條件"},
	"field_not_updateable": {"Salesforce field %s is not updateable, so it cannot receive values from the platform",
		"Salesforce 欄位「%s」不可更新，無法作為同步到 Salesforce 的目標"},
	"field_not_createable": {"Salesforce field %s cannot be set on new contacts, but new Salesforce contacts are created when nothing matches",
		"Salesforce 欄位「%s」無法在新增聯絡人時寫入，但查無對應聯絡人時的處理方式為「新增聯絡人」"},
	"invalid_direction": {"direction %q is not one of to_platform, to_salesforce, both",
		"同步方向「%s」無效，請選擇 → 平台、→ Salesforce 或雙向"},
	"invalid_conflict_rule": {"conflict rule %q is not one of newest_wins, prefer_salesforce_unless_blank, always_salesforce, always_platform",
		"衝突處理規則「%s」無效"},
	"conflict_rule_one_way": {"a conflict rule applies only to two-way mappings",
		"僅雙向同步的欄位需要設定衝突處理規則"},
	"field_in_use": {"Salesforce field %s is already used for %s and cannot be mapped again",
		"Salesforce 欄位「%s」已用於%s，不可再次設定"},

	// Identity.
	"invalid_identity": {"platform identity %q is not one of member_id, phone, email",
		"平台身份識別欄位「%s」無效，請選擇會員編號、電話或 Email"},
	"identity_type": {"Salesforce field %s (type %s) cannot identify contacts by %s",
		"Salesforce 欄位「%s」（類型 %s）無法比對平台的%s"},
	"invalid_no_match_policy": {"%q is not a valid choice; use create or update_only",
		"「%s」不是有效的選項，請選擇「新增聯絡人」或「僅更新現有聯絡人」"},
	"required_field_unmapped": {"new Salesforce contacts need a value for %s, so map a platform field to it or choose update_only",
		"新增 Salesforce 聯絡人時必須填寫「%s」，請設定同步到此欄位的平台欄位，或改為「僅更新現有聯絡人」"},
	"nothing_to_sync": {"the configuration syncs nothing in either direction: add a mapping or let a direction create contacts",
		"目前的設定不會同步任何資料：請新增同步欄位，或將查無對應聯絡人時的處理方式設為「新增聯絡人」"},

	"invalid_object": {"object %q is not one of Contact, Lead, LeadContact, PersonAccount",
		"同步物件「%s」無效，請選擇聯絡人、潛在客戶、潛在客戶轉換後的聯絡人或個人帳戶"},
	"converted_not_described": {"the pair Lead, then the converted Contact, needs the describe of Contact too",
		"「潛在客戶，轉換後為聯絡人」需要 Contact 的欄位清單"},
	"converted_contact": {"on Contact, where converted Leads go on: %s",
		"在 Contact（潛在客戶轉換後繼續同步之處）：%s"},
	"object_not_described": {"the describe is of %s, not of %s", "欄位清單屬於 %s，而非 %s"},
	"person_accounts_disabled": {"this Salesforce org does not have Person Accounts enabled",
		"此 Salesforce 組織未啟用個人帳戶（Person Account）"},

	// What sfsync creates (identity step).
	"constant_field_unknown":  {"Salesforce has no field %q to set on new records", "Salesforce 沒有「%s」欄位可在新增記錄時設定"},
	"constant_not_createable": {"Salesforce field %s cannot be set on new records", "Salesforce 欄位「%s」無法在新增記錄時寫入"},
	"constant_field_mapped":   {"Salesforce field %s already receives a mapped value", "Salesforce 欄位「%s」已由同步欄位寫入"},
	"constant_value_invalid":  {"%q is not a valid value for %s", "「%s」不是欄位「%s」的有效值"},
	"invalid_owner_policy": {"owner %q is not one of default, user, assignment_rules",
		"記錄擁有者設定「%s」無效"},
	"owner_id_invalid": {"%q is not a Salesforce user Id (005…)", "「%s」不是 Salesforce 使用者 ID（005 開頭）"},
	"assignment_rules_lead_only": {"assignment rules choose owners only for Leads",
		"指派規則僅適用於潛在客戶"},
	"record_type_unknown":      {"%q is not a record type available on %s", "「%s」不是 %s 可用的記錄類型"},
	"account_id_contact_only":  {"a fixed account applies only to Contacts", "固定帳戶僅適用於聯絡人"},
	"account_id_invalid":       {"%q is not a Salesforce Account Id (001…)", "「%s」不是 Salesforce 帳戶 ID（001 開頭）"},
	"invalid_duplicate_policy": {"%q is not one of review, link", "重複記錄處理方式「%s」無效，請選擇「送交審核」或「自動連結」"},
	"create_options_unused": {"these settings apply only when new Salesforce records are created (to_salesforce_no_match = create)",
		"這些設定僅在「查無對應時新增 Salesforce 記錄」時適用"},

	// Social.
	"social_requires_plan": {"more than one social identity mapping requires the Social CDP plan",
		"設定多組社群身份同步需升級至 Social CDP 方案"},
	"invalid_channel_type": {"channel type %q is not one of %s", "社群渠道類型「%s」無效（可用：%s）"},
	"duplicate_channel":    {"channel %s %s is already mapped", "社群渠道 %s %s 已設定過"},
	"social_field_type": {"Salesforce field %s (type %s) cannot store a social ID; use a text field",
		"Salesforce 欄位「%s」（類型 %s）無法儲存社群 ID，請選擇文字欄位"},

	// Field mappings.
	"unknown_platform_field": {"the platform has no field %q", "平台沒有「%s」欄位"},
	"platform_field_is_identity": {"platform field %s is the identity and cannot be overwritten by another Salesforce field",
		"平台欄位「%s」已用於身份識別，不可由其他 Salesforce 欄位覆寫"},
	"type_incompatible": {"Salesforce field %s (type %s) and platform field %s (%s) are not compatible in direction %s",
		"Salesforce 欄位「%s」（類型 %s）與平台欄位「%s」（%s）在此同步方向（%s）下類型不相容"},
	"duplicate_platform_target": {"platform field %s already receives values from another mapping (field_mappings[%d])",
		"平台欄位「%s」已由另一組同步欄位寫入（field_mappings[%d]）"},
	"duplicate_salesforce_target": {"Salesforce field %s already receives values from another mapping (field_mappings[%d])",
		"Salesforce 欄位「%s」已由另一組同步欄位寫入（field_mappings[%d]）"},
	"picklist_option_missing": {"option %q of platform field %s is not a value of Salesforce picklist %s",
		"平台欄位「%[2]s」的選項「%[1]s」不在 Salesforce 挑選清單「%[3]s」的值中"},

	"value_map_blank":              {"both sides of a value map entry are required", "值對應的兩邊都必須填寫"},
	"value_map_salesforce_unknown": {"%q is not a value of Salesforce picklist %s", "「%s」不是 Salesforce 挑選清單「%s」的值"},
	"value_map_platform_unknown":   {"%q is not an option of platform field %s", "「%s」不是平台欄位「%s」的選項"},
	"value_map_duplicate":          {"%q appears twice in the value map", "「%s」在值對應中重複出現"},
	"value_map_type": {"a value map applies to text, picklist and tag fields, not to Salesforce field %s (type %s)",
		"值對應僅適用於文字、挑選清單與標籤欄位，不適用於 Salesforce 欄位「%s」（類型 %s）"},
	"invalid_name_rule": {"name rule %q is not one of chinese, western", "姓名規則「%s」無效，請選擇中文或西式"},
	"name_rule_fields": {"a name rule maps the platform's name to LastName (with FirstName)",
		"姓名規則僅適用於平台「姓名」對應 Salesforce LastName（連同 FirstName）"},

	// Conditions.
	"invalid_operator": {"operator %q is not known", "條件運算子「%s」無效"},
	"operator_type": {"operator %s cannot be used on Salesforce field %s (type %s)",
		"條件運算子「%s」不適用於 Salesforce 欄位「%s」（類型 %s）"},
	"value_not_allowed":      {"operator %s takes no value", "條件運算子「%s」不需要填寫值"},
	"invalid_value":          {"%q is not a valid %s value", "「%s」不是有效的%s值"},
	"picklist_value_unknown": {"%q is not a value of picklist %s", "「%s」不是挑選清單「%s」的選項"},
	"value_too_long":         {"the value is longer than %d characters", "條件值超過 %d 個字元"},
	"value_control_character": {"the value contains a character that cannot be used (a control character or invalid UTF-8)",
		"條件值含有無法使用的字元"},

	// Per-record transform errors (RecordError).
	"invalid_phone": {"%s: %q is not a valid international phone number (include the country code, e.g. 886912345678)",
		"%s：「%s」不是有效的國際電話號碼（須包含國家/地區號碼，例如 886912345678）"},
	"invalid_email":   {"%s: %q is not a valid e-mail address", "%s：「%s」不是有效的 Email"},
	"invalid_date":    {"%s: %q is not a valid date", "%s：「%s」不是有效的日期"},
	"invalid_number":  {"%s: %q is not a valid number", "%s：「%s」不是有效的數字"},
	"invalid_boolean": {"%s: %q is not true or false", "%s：「%s」不是 true 或 false"},
	"not_an_option":   {"%s: %q is not one of the allowed values", "%s：「%s」不是允許的選項"},
	"too_long": {"%s: the value is %[3]d characters long, more than the field's limit of %[4]d",
		"%s：內容長度 %[3]d 個字元，超過欄位上限 %[4]d 個字元"},
	"number_out_of_range": {"%s: %q does not fit the field (at most %[3]d digits before the decimal point)",
		"%s：「%s」超出欄位範圍（整數部分最多 %[3]d 位）"},
	"not_an_integer":   {"%s: %q is not a whole number", "%s：「%s」不是整數"},
	"required_value":   {"%[1]s: Salesforce requires a value, so it cannot be cleared", "%[1]s：Salesforce 此欄位為必填，不可清空"},
	"unsupported_type": {"%[1]s: a value of type %[3]s cannot be converted", "%[1]s：無法轉換類型為 %[3]s 的值"},
	"invalid_text":     {"%s: %q contains %q, which this field cannot hold", "%s：「%s」含有此欄位無法儲存的字元「%s」"},
}

func message(code string, args ...any) map[string]string {
	t, ok := messages[code]
	if !ok {
		panic("syncconf: no message for code " + code)
	}
	return map[string]string{
		LangEN:   fmt.Sprintf(t.en, args...),
		LangZHTW: fmt.Sprintf(t.zh, args...),
	}
}

// RecordError is a per-record failure of a value transform: the record
// fails, the run goes on, and the sync log shows Field, Value and Reason
// (S12). Use errors.As to get it from an error.
type RecordError struct {
	// Field names the field the value was read from or written to, e.g.
	// "Salesforce MobilePhone" or "platform phone".
	Field string
	Value any
	// Reason is a stable machine code, e.g. "invalid_phone", "too_long".
	Reason string
	// Limit is the field's limit for "too_long" (characters) and
	// "number_out_of_range" (integer digits); zero otherwise.
	Limit int
	// Message holds the text to show, keyed by language.
	Message map[string]string
	// Err is the underlying cause, if any (e.g. contact.ErrPhoneNoCountry).
	Err error
}

func (e *RecordError) Error() string { return e.Message[LangEN] }

func (e *RecordError) Unwrap() error { return e.Err }

func recordError(field string, value any, reason string, cause error, args ...any) *RecordError {
	return &RecordError{
		Field:   field,
		Value:   value,
		Reason:  reason,
		Message: message(reason, append([]any{field, displayValue(value)}, args...)...),
		Err:     cause,
	}
}

// displayValue writes a value for a message: text as is, numbers without
// exponents, anything else as Go prints it.
func displayValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
