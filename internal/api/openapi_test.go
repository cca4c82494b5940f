package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
)

var docMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// docOperation is the part of an OpenAPI operation the tests read.
type docOperation struct {
	OperationID string                     `json:"operationId"`
	Security    *[]map[string][]string     `json:"security"`
	Parameters  []docParameter             `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type docParameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type docPathItem struct {
	Parameters []docParameter
	Ops        map[string]docOperation // by upper-case method
}

type openAPIDocument struct {
	raw     map[string]any
	servers []string
	paths   map[string]docPathItem
	params  map[string]docParameter // components.parameters by name
}

func parseOpenAPI(t *testing.T) openAPIDocument {
	t.Helper()
	var top struct {
		OpenAPI string `json:"openapi"`
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]docParameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &top); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if top.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", top.OpenAPI)
	}
	doc := openAPIDocument{paths: map[string]docPathItem{}, params: top.Components.Parameters}
	if err := json.Unmarshal(openAPIDoc, &doc.raw); err != nil {
		t.Fatal(err)
	}
	for _, s := range top.Servers {
		doc.servers = append(doc.servers, s.URL)
	}
	for path, item := range top.Paths {
		pi := docPathItem{Ops: map[string]docOperation{}}
		for key, raw := range item {
			switch {
			case key == "parameters":
				if err := json.Unmarshal(raw, &pi.Parameters); err != nil {
					t.Fatalf("%s parameters: %v", path, err)
				}
			case slices.Contains(docMethods, key):
				var op docOperation
				if err := json.Unmarshal(raw, &op); err != nil {
					t.Fatalf("%s %s: %v", key, path, err)
				}
				pi.Ops[strings.ToUpper(key)] = op
			case key == "summary" || key == "description":
			default:
				t.Errorf("path %s has unexpected key %q", path, key)
			}
		}
		doc.paths[path] = pi
	}
	return doc
}

func (d openAPIDocument) paramName(p docParameter) (name, in string) {
	if p.Ref != "" {
		p = d.params[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
	}
	return p.Name, p.In
}

// TestOpenAPIMatchesRoutes keeps the document and the route table in step
// in both directions, and checks that the document describes each route's
// path parameters, authentication and error responses.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc := parseOpenAPI(t)
	if !slices.Equal(doc.servers, []string{Prefix}) {
		t.Errorf("servers = %v, want [%s]", doc.servers, Prefix)
	}
	registered := map[string]route{}
	for _, rt := range routes {
		key := rt.method + " " + rt.path
		if _, dup := registered[key]; dup {
			t.Errorf("route %s is listed twice", key)
		}
		registered[key] = rt
	}
	documented := map[string]bool{}
	opIDs := map[string]string{}
	for path, item := range doc.paths {
		for method, op := range item.Ops {
			key := method + " " + path
			documented[key] = true
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			} else if prev, dup := opIDs[op.OperationID]; dup {
				t.Errorf("operationId %s is used by %s and %s", op.OperationID, prev, key)
			}
			opIDs[op.OperationID] = key
			rt, ok := registered[key]
			if !ok {
				t.Errorf("the document describes %s, which is not in the route table", key)
				continue
			}
			// Every path parameter is declared, and no other.
			var declared []string
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if name, in := doc.paramName(p); in == "path" {
					declared = append(declared, name)
				} else if name == "" {
					t.Errorf("%s: parameter %+v does not resolve", key, p)
				}
			}
			var want []string
			for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(path, -1) {
				want = append(want, m[1])
			}
			slices.Sort(declared)
			slices.Sort(want)
			if !slices.Equal(declared, want) {
				t.Errorf("%s declares path parameters %v, want %v", key, declared, want)
			}
			public := op.Security != nil && len(*op.Security) == 0
			if public != rt.public {
				t.Errorf("%s: document says public=%v, route table says %v", key, public, rt.public)
			}
			wantResponses := []string{"500"}
			if !rt.public {
				wantResponses = append(wantResponses, "401", "503")
			}
			if strings.Contains(path, "{") {
				wantResponses = append(wantResponses, "404")
			}
			if method == "POST" || method == "PATCH" {
				wantResponses = append(wantResponses, "400", "413", "415")
			}
			if rt.public {
				wantResponses = nil
			}
			for _, code := range wantResponses {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s does not document its %s response", key, code)
				}
			}
		}
	}
	for key := range registered {
		if !documented[key] {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
	}
}

// TestOpenAPIRoutesAreServed calls every operation of the document with a
// valid key and checks that the mux routed it: no route-miss 404 or 405.
func TestOpenAPIRoutesAreServed(t *testing.T) {
	t.Parallel()
	e := setup(t, store.SQLite)
	srv := e.handler.(*server)
	doc := parseOpenAPI(t)
	fill := regexp.MustCompile(`\{[a-z_]+\}`)
	for path, item := range doc.paths {
		for method := range item.Ops {
			target := Prefix + fill.ReplaceAllString(path, "x")
			body := ""
			if method == "POST" || method == "PATCH" {
				body = "{}"
				if strings.HasSuffix(path, "/bulk") {
					body = "[]"
					target += "?match_by=member_id"
				}
			}
			req := httptest.NewRequest(method, target, strings.NewReader(body))
			if _, pattern := srv.mux.Handler(req); pattern != method+" "+Prefix+path {
				t.Errorf("%s %s: the mux matched pattern %q, want %q", method, path, pattern, method+" "+Prefix+path)
			}
			r := e.do(method, target, body)
			if r.status == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: got 405, want the route to be registered", method, target)
			}
			if r.status == http.StatusNotFound && r.problem(t).Type == problemTypePrefix+string(codeNoRoute) {
				t.Errorf("%s %s: got the mux's 404, want the route to be registered", method, target)
			}
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	doc := parseOpenAPI(t)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				var node any = doc.raw
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, ok := node.(map[string]any)
					if !ok || m[part] == nil {
						t.Errorf("%s: $ref %s does not resolve", path, ref)
						return
					}
					node = m[part]
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	walk("#", doc.raw)
}

func TestOpenAPIServedWithoutKey(t *testing.T) {
	t.Parallel()
	e := setup(t, store.SQLite)
	r := e.doKey("", "GET", "/api/v1/openapi.json", "", "")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || string(r.body) != string(openAPIDoc) {
		t.Errorf("GET /api/v1/openapi.json without a key: got %d %s (%d bytes), want 200 with the document", r.status, r.header.Get("Content-Type"), len(r.body))
	}
}
