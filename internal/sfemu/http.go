package sfemu

import (
	"encoding/json"
	"net/http"
	"strings"
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeErrors(w, []*apiError{errNotFound()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`[{"message":"encoding failed","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErrors(w http.ResponseWriter, errs []*apiError) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(errs[0].Status)
	_, _ = w.Write([]byte(errorBody(errs, false)))
}

// errorBody renders Salesforce's error array; statusCode uses the
// SaveResult key instead of errorCode.
func errorBody(errs []*apiError, statusCode bool) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range errs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(errorJSON(e, statusCode)))
	}
	b.WriteByte(']')
	return b.String()
}

func errorJSON(e *apiError, statusCode bool) []byte {
	key := "errorCode"
	if statusCode {
		key = "statusCode"
	}
	var b []byte
	if statusCode {
		b = append(b, `{"statusCode":`...)
		b = appendJSONString(b, e.Code)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, e.Message)
	} else {
		b = append(b, `{"message":`...)
		b = appendJSONString(b, e.Message)
		b = append(b, `,"`+key+`":`...)
		b = appendJSONString(b, e.Code)
	}
	if !e.noFields || statusCode {
		b = append(b, `,"fields":[`...)
		for i, f := range e.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
