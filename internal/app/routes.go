package app

import (
	"net/http"

	"github.com/sfsync/sfsync/internal/api"
)

// mountAPI adds the JSON API under /api/v1/.
func (a *App) mountAPI(mux *http.ServeMux) {
	mux.Handle("/api/v1/", api.New(a.Store, a.Logger))
}
