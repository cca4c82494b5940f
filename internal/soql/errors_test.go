package soql

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src       string
		code      string
		row, col  int
		text      string
		noCaret   bool // message without the position prefix
		wantCaret string
	}{
		// Mixing AND and OR without parentheses: reported at the first
		// connective of the other kind.
		{src: "SELECT Id FROM Contact WHERE a = 1 AND b = 2 OR c = 3", code: CodeMalformedQuery, row: 1, col: 46, text: "unexpected token: 'OR'"},
		{src: "SELECT Id FROM Contact WHERE a = 1 OR b = 2 and c = 3", code: CodeMalformedQuery, row: 1, col: 45, text: "unexpected token: 'and'"},
		{src: "SELECT Id, Email, Name\nFROM Contact\nWHERE AccountId = '0014000000p6XlS' AND LastName LIKE 'test' OR email LIKE 'test'",
			code: CodeMalformedQuery, row: 3, col: 62, text: "unexpected token: 'OR'",
			wantCaret: "\nWHERE AccountId = '0014000000p6XlS' AND LastName LIKE 'test' OR email LIKE 'test'\n" + strings.Repeat(" ", 61) + "^\nERROR at Row:3:Column:62\nunexpected token: 'OR'"},
		{src: "SELECT Id FROM Contact WHERE NOT a = 1 AND b = 2 OR c = 3", code: CodeMalformedQuery, row: 1, col: 50, text: "unexpected token: 'OR'"},
		// <> is not accepted.
		{src: "SELECT Id FROM Contact WHERE Email <> null", code: CodeMalformedQuery, row: 1, col: 36, text: "unexpected token: '<>'"},
		// Unquoted and double-quoted strings.
		{src: "SELECT Id FROM Contact WHERE LastName = Smith", code: CodeMalformedQuery, row: 1, col: 41, text: "unexpected token: 'Smith'"},
		{src: `SELECT Id FROM Contact WHERE LastName = "Smith"`, code: CodeMalformedQuery, row: 1, col: 41, noCaret: true,
			text: `line 1:40 no viable alternative at character '"'`},
		{src: "SELECT Id FROM Contact WHERE LastName = 'O'Brien'", code: CodeMalformedQuery, row: 1, col: 44, text: "unexpected token: 'Brien'"},
		{src: "SELECT Id FROM Contact WHERE LastName = 'abc", code: CodeMalformedQuery, row: 1, col: 45, noCaret: true,
			text: "line 1:44 mismatched character '<EOF>' expecting '''"},
		// Trailing semicolon, missing FROM, missing object, empty input.
		{src: "SELECT Id FROM Contact;", code: CodeMalformedQuery, row: 1, col: 23, text: "unexpected token: ';'"},
		{src: "SELECT Id Contact", code: CodeMalformedQuery, row: 1, col: 11, text: "unexpected token: 'Contact'"},
		{src: "SELECT Id FROM", code: CodeMalformedQuery, row: 1, col: 15, text: "unexpected token: '<EOF>'"},
		{src: "SELECT Id, FROM Contact", code: CodeMalformedQuery, row: 1, col: 12, text: "unexpected token: 'FROM'"},
		{src: "", code: CodeMalformedQuery, row: 1, col: 1, text: "unexpected token: '<EOF>'"},
		{src: "UPDATE Contact", code: CodeMalformedQuery, row: 1, col: 1, text: "unexpected token: 'UPDATE'"},
		{src: "SELECT * FROM Contact", code: CodeMalformedQuery, row: 1, col: 8, text: "unexpected token: '*'"},
		// NOT LIKE is not SOQL; NOT IN is.
		{src: "SELECT Id FROM Contact WHERE LastName NOT LIKE 'a%'", code: CodeMalformedQuery, row: 1, col: 43, text: "unexpected token: 'LIKE'"},
		{src: "SELECT Id FROM Contact WHERE Id IN ()", code: CodeMalformedQuery, row: 1, col: 37, text: "unexpected token: ')'"},
		{src: "SELECT Id FROM Contact WHERE Id IN 'a'", code: CodeMalformedQuery, row: 1, col: 36, text: "unexpected token: ''a''"},
		{src: "SELECT Id FROM Contact WHERE (a = 1", code: CodeMalformedQuery, row: 1, col: 36, text: "unexpected token: '<EOF>'"},
		{src: "SELECT Id FROM Contact WHERE a = 1)", code: CodeMalformedQuery, row: 1, col: 35, text: "unexpected token: ')'"},
		{src: "SELECT Id FROM Contact WHERE", code: CodeMalformedQuery, row: 1, col: 29, text: "unexpected token: '<EOF>'"},
		{src: "SELECT Id FROM Contact WHERE Email = :email", code: CodeMalformedQuery, row: 1, col: 38, text: "Bind variables only allowed in Apex code"},
		// String escapes: only the documented sequences; \% and \_ only in LIKE.
		{src: `SELECT Id FROM Contact WHERE LastName = 'a\qb'`, code: CodeMalformedQuery, row: 1, col: 41,
			text: `Invalid string literal 'a\qb'. Illegal character sequence '\q' in string literal.`},
		{src: `SELECT Id FROM Contact WHERE LastName = '100\%'`, code: CodeMalformedQuery, row: 1, col: 41,
			text: `Invalid string literal '100\%'. Illegal character sequence '\%' in string literal.`},
		{src: `SELECT Id FROM Contact WHERE LastName IN ('a\_b')`, code: CodeMalformedQuery, row: 1, col: 43,
			text: `Invalid string literal 'a\_b'. Illegal character sequence '\_' in string literal.`},
		{src: `SELECT Id FROM Contact WHERE LastName = '\u12'`, code: CodeMalformedQuery, row: 1, col: 41,
			text: `Invalid string literal '\u12'. Illegal character sequence '\u12' in string literal.`},
		// Dates.
		{src: "SELECT Id FROM Contact WHERE Birthdate = 2024-02-30", code: CodeMalformedQuery, row: 1, col: 42, text: "unexpected token: '2024-02-30'"},
		{src: "SELECT Id FROM Contact WHERE CreatedDate > 2024-01-31T10:00:00", code: CodeMalformedQuery, row: 1, col: 44, text: "unexpected token: '2024-01-31T10:00:00'"},
		{src: "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS", code: CodeMalformedQuery, row: 1, col: 55, text: "unexpected token: '<EOF>'"},
		{src: "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:x", code: CodeMalformedQuery, row: 1, col: 56, text: "unexpected token: 'x'"},
		{src: "SELECT Id FROM Contact WHERE CreatedDate = SOMEDAY", code: CodeMalformedQuery, row: 1, col: 44, text: "unexpected token: 'SOMEDAY'"},
		// ORDER BY, LIMIT, OFFSET.
		{src: "SELECT Id FROM Contact ORDER Id", code: CodeMalformedQuery, row: 1, col: 30, text: "unexpected token: 'Id'"},
		{src: "SELECT Id FROM Contact ORDER BY Id NULLS", code: CodeMalformedQuery, row: 1, col: 41, text: "unexpected token: '<EOF>'"},
		{src: "SELECT Id FROM Contact LIMIT -1", code: CodeMalformedQuery, row: 1, col: 30, text: "unexpected token: '-'"},
		{src: "SELECT Id FROM Contact LIMIT 1.5", code: CodeMalformedQuery, row: 1, col: 30, text: "unexpected token: '1.5'"},
		{src: "SELECT Id FROM Contact LIMIT 99999999999", code: CodeMalformedQuery, row: 1, col: 30, text: "numeric value out of range: 99999999999"},
		{src: "SELECT Id FROM Contact OFFSET 10 LIMIT 5", code: CodeMalformedQuery, row: 1, col: 34, text: "unexpected token: 'LIMIT'"},
		{src: "SELECT Id FROM Contact OFFSET 2001", code: CodeNumberOutsideRange, row: 1, col: 31, noCaret: true, text: "Maximum SOQL offset allowed is 2000"},
		// COUNT() stands alone (mixing aggregates and ungrouped fields is a
		// Compile error: TestAggregateErrors).
		{src: "SELECT COUNT(), Id FROM Contact", code: CodeMalformedQuery, row: 1, col: 15, text: "unexpected token: ','"},
		{src: "SELECT Id, COUNT() FROM Contact", code: CodeMalformedQuery, row: 1, col: 18, text: "unexpected token: ')'"},
		{src: "SELECT COUNT(Id FROM Contact", code: CodeMalformedQuery, row: 1, col: 17, text: "unexpected token: 'FROM'"},
		{src: "SELECT Id FROM Contact GROUP Id", code: CodeMalformedQuery, row: 1, col: 30, text: "unexpected token: 'Id'"},
		{src: "SELECT Id FROM Contact GROUP BY", code: CodeMalformedQuery, row: 1, col: 32, text: "unexpected token: '<EOF>'"},
		// Aggregate calls are operands of HAVING, not of WHERE.
		{src: "SELECT Email FROM Contact WHERE COUNT(Id) > 1", code: CodeMalformedQuery, row: 1, col: 38, text: "unexpected token: '('"},
		// HAVING comes after GROUP BY, ORDER BY after HAVING.
		{src: "SELECT Email FROM Contact HAVING COUNT(Id) > 1 GROUP BY Email", code: CodeMalformedQuery, row: 1, col: 48, text: "unexpected token: 'GROUP'"},
		// Unsupported clauses.
		{src: "SELECT Id FROM Contact GROUP BY ROLLUP(Id)", code: CodeMalformedQuery, row: 1, col: 39, text: "unexpected token: '('"},
		{src: "SELECT Id FROM Contact WHERE Email INCLUDES ('a')", code: CodeMalformedQuery, row: 1, col: 36, text: "unexpected token: 'INCLUDES'"},
		// Positions count UTF-16 units, as Salesforce's parser does.
		{src: "SELECT Id FROM Contact WHERE LastName = '😀' AND x", code: CodeMalformedQuery, row: 1, col: 51, text: "unexpected token: '<EOF>'"},
		{src: "SELECT Id FROM Contact WHERE LastName = 'é' ?", code: CodeMalformedQuery, row: 1, col: 45, noCaret: true, text: "line 1:44 no viable alternative at character '?'"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src)
		if err == nil {
			t.Errorf("Parse(%q): got no error, want %s", tt.src, tt.text)
			continue
		}
		e := asError(t, err)
		if e.Code != tt.code || e.Row != tt.row || e.Column != tt.col || e.Text != tt.text {
			t.Errorf("Parse(%q):\n got %s Row:%d Column:%d %q\nwant %s Row:%d Column:%d %q",
				tt.src, e.Code, e.Row, e.Column, e.Text, tt.code, tt.row, tt.col, tt.text)
			continue
		}
		if tt.noCaret {
			if e.Message != tt.text {
				t.Errorf("Parse(%q): got message %q, want %q", tt.src, e.Message, tt.text)
			}
			continue
		}
		want := tt.wantCaret
		if want == "" {
			line := strings.Split(tt.src, "\n")[tt.row-1]
			want = "\n" + line + "\n" + strings.Repeat(" ", tt.col-1) + "^\nERROR at Row:" + strconv.Itoa(tt.row) + ":Column:" + strconv.Itoa(tt.col) + "\n" + tt.text
			if strings.ContainsAny(line, "😀é") {
				want = e.Message // the caret padding is in UTF-16 units; checked above via Column
			}
		}
		if e.Message != want {
			t.Errorf("Parse(%q): got message\n%q\nwant\n%q", tt.src, e.Message, want)
		}
	}
}

// TestErrorMessageFixture checks the full message against the INVALID_TYPE
// error recorded from a real org (CumulusCI cassette, research §2.4).
func TestErrorMessageFixture(t *testing.T) {
	t.Parallel()
	q := mustParse(t, "select count() from XYZZY")
	_, err := Compile(q, contactSchema(), testNow)
	e := asError(t, err)
	want := "\nselect count() from XYZZY\n                    ^\nERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
	if e.Code != CodeInvalidType || e.Message != want {
		t.Errorf("got %s %q\nwant INVALID_TYPE %q", e.Code, e.Message, want)
	}
	if got := q.UnknownObjectError(); got.Message != want {
		t.Errorf("UnknownObjectError: got %q, want %q", got.Message, want)
	}
}

func TestQueryTooLong(t *testing.T) {
	t.Parallel()
	prefix := "SELECT Id FROM Contact WHERE LastName = '"
	src := prefix + strings.Repeat("x", 100000-len(prefix)-1) + "'"
	if _, err := Parse(src); err != nil {
		t.Errorf("Parse of a %d-character query: %v, want success", len(src), err)
	}
	src = prefix + strings.Repeat("x", 100000-len(prefix)) + "'"
	_, err := Parse(src)
	e := asError(t, err)
	want := "SOQL statements cannot be longer than 100,000 characters."
	if e.Code != CodeMalformedQuery || e.Message != want {
		t.Errorf("got %s %q, want MALFORMED_QUERY %q", e.Code, e.Message, want)
	}
}
