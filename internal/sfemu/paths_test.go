package sfemu

import "testing"

// TestDoubledSlash checks that an empty path segment (a doubled slash) is
// a resource that does not exist, as on Salesforce: restforce built
// "/services/data/vXX.X//sobjects/Contact/updated/..." for get_updated and
// got 404 from real orgs until it dropped the extra slash
// (https://github.com/restforce/restforce/pull/366). A single trailing
// slash stays harmless (the documented getUpdated URL ends in "updated/").
func TestDoubledSlash(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.create(map[string]any{"LastName": "Slash"})
	for _, path := range []string{
		"/services/data/v62.0//sobjects/Contact",
		"/services/data/v62.0//sobjects/Contact/updated/?start=2026-03-01T07%3A00%3A00%2B00%3A00&end=2026-03-01T09%3A00%3A00%2B00%3A00",
		"/services/data/v62.0/sobjects//Contact/" + id,
		"/services/data/v62.0/sobjects/Contact//" + id,
		"/services/data/v62.0/sobjects/Contact/" + id + "//",
		"/services/data/v62.0//query?q=SELECT+Id+FROM+Contact",
		"/services/data/v62.0//",
		"/services/data//v62.0/sobjects/Contact",
		"//services/data/v62.0//sobjects/Contact",
	} {
		got := wantErrorCode(t, e.do("GET", path, nil), 404, "NOT_FOUND")
		if got["message"] != "The requested resource does not exist" {
			t.Errorf("GET %s: got message %q, want The requested resource does not exist", path, got["message"])
		}
	}
	for _, path := range []string{
		"/services/data/v62.0/sobjects/Contact/",
		"/services/data/v62.0/sobjects/Contact/" + id + "/",
		"/services/data/v62.0/sobjects/Contact/updated/?start=2026-03-01T07%3A00%3A00%2B00%3A00&end=2026-03-01T09%3A00%3A00%2B00%3A00",
		"/services/data/v62.0/",
		// Leading slashes are one (TestLeadingDoubledSlash).
		"//services/data/v62.0/sobjects/Contact",
	} {
		wantStatus(t, e.do("GET", path, nil), 200)
	}
}
