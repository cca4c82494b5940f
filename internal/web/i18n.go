package web

import (
	"fmt"
	"net/http"
	"strings"
)

// Languages of the UI; the first is the default.
const (
	langZH = "zh-TW"
	langEN = "en"
)

func isLang(l string) bool { return l == langZH || l == langEN }

// pickLang chooses the admin's own language, else the tenant's default.
func pickLang(adminLang, tenantLang string) string {
	if isLang(adminLang) {
		return adminLang
	}
	if isLang(tenantLang) {
		return tenantLang
	}
	return langZH
}

// langFromRequest is the language of a page without a session: the
// language cookie, else the browser's preference, else zh-TW.
func langFromRequest(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && isLang(c.Value) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return langZH
		case strings.HasPrefix(tag, "en"):
			return langEN
		}
	}
	return langZH
}

// translate returns key's text in lang, formatted with args when there
// are any. An unknown key is an error, so templates fail loudly.
func translate(lang, key string, args ...any) (string, error) {
	cat, ok := catalogs[lang]
	if !ok {
		cat = catalogs[langZH]
	}
	msg, ok := cat[key]
	if !ok {
		return "", fmt.Errorf("message catalogue %s has no key %q", lang, key)
	}
	if len(args) == 0 {
		return msg, nil
	}
	return fmt.Sprintf(msg, args...), nil
}

func hasKey(key string) bool {
	_, ok := catalogs[langZH][key]
	return ok
}
