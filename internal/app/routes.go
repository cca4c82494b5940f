package app

import (
	"net/http"
	"strings"

	"github.com/sfsync/sfsync/internal/api"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/web"
)

// The engine is what the admin UI drives.
var _ web.Engine = (*syncer.Engine)(nil)

// mountAPI adds the JSON API under /api/v1/ and the admin UI at /.
func (a *App) mountAPI(mux *http.ServeMux) {
	mux.Handle("/api/v1/", api.NewWithSync(a.Store, a.Logger, api.Sync{Engine: a.Engine, Conn: a.Conn, Alerts: a.Alerts}))
	mux.Handle("/", web.New(web.Options{Store: a.Store, Conn: a.Conn, Engine: a.Engine, Logger: a.Logger, BaseURL: a.Config.BaseURL,
		PlatformName: a.Config.PlatformName, ContactURL: a.Config.PlatformContactURL, Alerts: a.Alerts, SecureCookies: strings.HasPrefix(a.Config.BaseURL, "https://")}))
}
