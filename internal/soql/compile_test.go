package soql

import (
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	const noSuchTail = ". If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
	tests := []struct {
		src      string
		code     string
		row, col int // 0 when the message has no position prefix
		text     string
	}{
		{"SELECT Id, Foo__c FROM Contact", CodeInvalidField, 1, 12, "No such column 'Foo__c' on entity 'Contact'" + noSuchTail},
		{"SELECT Id FROM Contact WHERE Foo = 1", CodeInvalidField, 1, 30, "No such column 'Foo' on entity 'Contact'" + noSuchTail},
		{"SELECT Id FROM Contact ORDER BY Foo", CodeInvalidField, 1, 33, "No such column 'Foo' on entity 'Contact'" + noSuchTail},
		{"SELECT COUNT(Foo) FROM Contact", CodeInvalidField, 1, 14, "No such column 'Foo' on entity 'Contact'" + noSuchTail},
		{"SELECT Owner.Phone FROM Contact", CodeInvalidField, 1, 8, "No such column 'Phone' on entity 'User'" + noSuchTail},
		{"SELECT Boss.Email FROM Contact", CodeInvalidField, 1, 8, "Didn't understand relationship 'Boss' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id FROM Lead", CodeInvalidType, 1, 16, "sObject type 'Lead' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id, id FROM Contact", CodeInvalidField, 0, 0, "duplicate field selected: Id"},
		{"SELECT COUNT(Id) a, COUNT(Email) A FROM Contact", CodeInvalidField, 0, 0, "duplicate alias: A"},

		{"SELECT Id FROM Contact WHERE Description = 'x'", CodeInvalidField, 1, 30, "field 'Description' can not be filtered in a query call"},
		{"SELECT Id FROM Contact WHERE Description IN ('x')", CodeInvalidField, 1, 30, "field 'Description' can not be filtered in a query call"},
		{"SELECT Id FROM Contact ORDER BY Id, description DESC", CodeInvalidField, 1, 37, "field 'Description' can not be sorted in a query call"},

		{"SELECT Id FROM Contact WHERE Birthdate = '2024-01-31'", CodeInvalidField, 1, 42, "value of filter criterion for field 'Birthdate' must be of type date and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE birthdate > 2024-01-31T00:00:00Z", CodeInvalidField, 1, 42, "value of filter criterion for field 'Birthdate' must be of type date and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE CreatedDate > 2024-01-31", CodeInvalidField, 1, 44, "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE LastName = 5", CodeInvalidField, 1, 41, "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE LastName IN ('a', true)", CodeInvalidField, 1, 48, "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE LastName LIKE 5", CodeInvalidField, 1, 44, "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE MailingLatitude = '5'", CodeInvalidField, 1, 48, "value of filter criterion for field 'MailingLatitude' must be of type double and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE NumberOfKids__c = TODAY", CodeInvalidField, 1, 48, "value of filter criterion for field 'NumberOfKids__c' must be of type int and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE IsDeleted = 'true'", CodeInvalidField, 1, 42, "value of filter criterion for field 'IsDeleted' must be of type boolean and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE Id = 5", CodeInvalidField, 1, 35, "value of filter criterion for field 'Id' must be of type id and should be enclosed in quotes"},

		{"SELECT Id FROM Contact WHERE Id = 'Edge Communications'", CodeInvalidFilterOp, 1, 35, "invalid ID field: Edge Communications"},
		{"SELECT Id FROM Contact WHERE AccountId IN ('001000000000001', 'abc')", CodeInvalidFilterOp, 1, 63, "invalid ID field: abc"},
		{"SELECT Id FROM Contact WHERE Id = '0030000000000019'", CodeInvalidFilterOp, 1, 35, "invalid ID field: 0030000000000019"},
		{"SELECT Id FROM Contact WHERE Id LIKE '003%'", CodeInvalidFilterOp, 1, 33, "invalid operator on id field"},
		{"SELECT Id FROM Contact WHERE Birthdate LIKE '2024%'", CodeInvalidFilterOp, 1, 40, "invalid operator on date field"},
		{"SELECT Id FROM Contact WHERE IsDeleted > false", CodeInvalidFilterOp, 1, 40, "invalid operator on boolean field"},
	}
	for _, tt := range tests {
		q, err := Parse(tt.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.src, err)
			continue
		}
		_, err = Compile(q, contactSchema(), testNow)
		if err == nil {
			t.Errorf("Compile(%q): got no error, want %s", tt.src, tt.text)
			continue
		}
		e := asError(t, err)
		if e.Code != tt.code || e.Row != tt.row || e.Column != tt.col || e.Text != tt.text {
			t.Errorf("Compile(%q):\n got %s Row:%d Column:%d %q\nwant %s Row:%d Column:%d %q",
				tt.src, e.Code, e.Row, e.Column, e.Text, tt.code, tt.row, tt.col, tt.text)
			continue
		}
		wantPrefix := "\n" + tt.src + "\n"
		if tt.row == 0 {
			if e.Message != tt.text {
				t.Errorf("Compile(%q): got message %q, want %q", tt.src, e.Message, tt.text)
			}
		} else if !strings.HasPrefix(e.Message, wantPrefix) || !strings.HasSuffix(e.Message, "\n"+tt.text) {
			t.Errorf("Compile(%q): got message %q, want the query, caret and text", tt.src, e.Message)
		}
	}
}

// TestCompileNoSuchColumnMessage pins the full INVALID_FIELD message shape
// of research §2.4.
func TestCompileNoSuchColumnMessage(t *testing.T) {
	t.Parallel()
	_, err := Compile(mustParse(t, "SELECT Id, Foo__c FROM Contact"), contactSchema(), testNow)
	want := "\nSELECT Id, Foo__c FROM Contact\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo__c' on entity 'Contact'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
	if e := asError(t, err); e.Message != want {
		t.Errorf("got %q\nwant %q", e.Message, want)
	}
}

func TestCompilePlan(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "select ID, lastname, owner.EMAIL from CONTACT where email != null order by systemmodstamp desc, id limit 50 offset 10")
	var names []string
	for _, f := range p.Fields {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "Id,LastName,Owner.Email" {
		t.Errorf("got fields %s, want Id,LastName,Owner.Email (describe spelling)", got)
	}
	if p.Object != "Contact" || p.Count || p.Grouped || len(p.Columns) != 0 || p.Limit != 50 || p.Offset != 10 {
		t.Errorf("got plan %+v", p)
	}
	wantOrder := []Order{{Field: "SystemModstamp", Desc: true, NullsLast: true}, {Field: "Id"}}
	if len(p.Order) != 2 || p.Order[0] != wantOrder[0] || p.Order[1] != wantOrder[1] {
		t.Errorf("got order %+v, want %+v", p.Order, wantOrder)
	}
	if p.Less == nil || p.Match == nil {
		t.Errorf("got nil Less or Match")
	}

	p = mustCompile(t, "SELECT COUNT() FROM Contact")
	if !p.Count || len(p.Fields) != 0 || p.Less != nil || !p.Match(contact(nil)) || p.Limit != -1 {
		t.Errorf("got COUNT() plan %+v", p)
	}

	p = mustCompile(t, "SELECT COUNT(Id), COUNT(Email) mails, COUNT(Phone) FROM Contact")
	if !p.Grouped || len(p.Columns) != 3 || p.Columns[0].Name != "expr0" || p.Columns[1].Name != "mails" ||
		p.Columns[2].Name != "expr1" || p.Columns[1].Field.Name != "Email" || len(p.Fields) != 0 {
		t.Errorf("got columns %+v", p.Columns)
	}
}
