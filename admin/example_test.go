package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/beignet-go/beignet/admin"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
)

// Mount the page in the app's own server, behind the app's authentication.
func ExampleHandler() {
	leases := locks.NewMemory()
	store := outbox.NewMemory()
	onlyOperators := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Operator") == "" { // the app's real check goes here
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", onlyOperators(admin.Handler("/admin/", admin.WithLeases(leases), admin.WithOutbox(store))))

	req := httptest.NewRequest(http.MethodGet, "/admin/outbox", nil)
	req.Header.Set("X-Operator", "ada")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), "No dead letters."))
	// Output: 200 true
}
