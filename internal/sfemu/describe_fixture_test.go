package sfemu

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// realContactDescribe is a describe of Contact recorded from a real org:
// the response body of SFDO-Tooling/CumulusCI
// cumulusci/tests/shared_cassettes/GET_sobjects_Contact_describe.yaml
// (commit fa83bc2d3a1f5d350f034edb0ca0a214ad845e7f; BSD 3-Clause licence,
// Copyright (c) 2021 Salesforce.com, Inc.; see testdata/README.md). The
// host is sanitised to orgname.my.salesforce.com and the version to vxx.0.
const realContactDescribe = "testdata/contact_describe.json"

// TestDescribeContactMatchesRealOrg compares every attribute of every
// standard Contact field the emulator describes with the recorded one.
func TestDescribeContactMatchesRealOrg(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(realContactDescribe)
	if err != nil {
		t.Fatal(err)
	}
	var real struct {
		Fields []map[string]any `json:"fields"`
	}
	if err := json.Unmarshal(raw, &real); err != nil {
		t.Fatal(err)
	}
	e := setup(t)
	r := e.do("GET", "sobjects/Contact/describe", nil)
	wantStatus(t, r, 200)
	var got struct {
		Fields []map[string]any `json:"fields"`
	}
	r.json(t, &got)
	byName := map[string]map[string]any{}
	var order []string
	for _, f := range got.Fields {
		if f["custom"] == true {
			continue // each org has its own custom fields
		}
		byName[f["name"].(string)] = f
		order = append(order, f["name"].(string))
	}
	var realOrder []string
	for _, want := range real.Fields {
		name := want["name"].(string)
		realOrder = append(realOrder, name)
		have, ok := byName[name]
		if !ok {
			t.Errorf("field %s: missing from the emulator's describe", name)
			continue
		}
		var keys []string
		for k := range want {
			keys = append(keys, k)
		}
		for k := range have {
			if _, ok := want[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			w, wok := want[k]
			h, hok := have[k]
			if !wok || !hok {
				t.Errorf("%s.%s: got present=%v, want present=%v", name, k, hok, wok)
				continue
			}
			if !reflect.DeepEqual(h, w) {
				t.Errorf("%s.%s: got %s, want %s", name, k, jsonText(h), jsonText(w))
			}
		}
	}
	if strings.Join(order, ",") != strings.Join(realOrder, ",") {
		t.Errorf("standard field order:\n got %s\nwant %s", strings.Join(order, ","), strings.Join(realOrder, ","))
	}

	// The object's own attributes, with the recording's sanitised host and
	// version. childRelationships are left out: the recorded org has 95,
	// to objects the emulator does not have.
	sanitised := strings.NewReplacer(e.ts.URL, "https://orgname.my.salesforce.com", "/v62.0/", "/vxx.0/").Replace(string(r.body))
	var gotTop, realTop map[string]any
	if err := json.Unmarshal([]byte(sanitised), &gotTop); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &realTop); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]any{gotTop, realTop} {
		delete(m, "fields")
		delete(m, "childRelationships")
	}
	for k, w := range realTop {
		if h, ok := gotTop[k]; !ok || !reflect.DeepEqual(h, w) {
			t.Errorf("describe %s: got %s, want %s", k, jsonText(h), jsonText(w))
		}
	}
	for k := range gotTop {
		if _, ok := realTop[k]; !ok {
			t.Errorf("describe %s: got it, want no such key", k)
		}
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// TestStandardRestrictedPicklists checks that the picklists the real
// describe marks restricted refuse other values on write, as custom
// restricted picklists do.
func TestStandardRestrictedPicklists(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, field := range []string{"CleanStatus", "MailingGeocodeAccuracy", "OtherGeocodeAccuracy"} {
		wantErrorCode(t, e.do("POST", "sobjects/Contact", map[string]any{"LastName": "x", field: "Nope"}), 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
	}
	e.create(map[string]any{"LastName": "x", "CleanStatus": "Pending", "MailingGeocodeAccuracy": "Zip"})
}
