package api

import (
	"context"
	"net/http"

	"github.com/fenqi/fenqi/web"
)

// The customer's web page (package web) is served under /app by the same
// server. Its routes are not behind the bearer token: the page signs the
// customer in with the same customer token, kept in a cookie, and checks
// it on every request (webCustomer). Operator tokens do not sign in: the
// page is the customer's. A server built WithoutAuth has no customer
// tokens, so nobody signs in to the page.

// routeWeb mounts the web page's routes on the server's mux (so that they
// are logged and counted by route like the others), each bounded by the
// server's timeout.
func (s *Server) routeWeb() {
	h := web.New(s.door, s.webCustomer, s.log)
	for _, rt := range h.Routes() {
		handler := rt.Handler
		s.mux.HandleFunc(rt.Pattern, func(w http.ResponseWriter, r *http.Request) {
			timeout := s.Timeout
			if timeout <= 0 {
				timeout = DefaultTimeout
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			handler(w, r.WithContext(ctx))
		})
	}
}

// webCustomer is the customer of a token, for the web page: customer
// tokens only.
func (s *Server) webCustomer(token string) (web.Customer, bool) {
	c, ok := s.tokens.lookup(token)
	if !ok || c.Role != RoleCustomer {
		return web.Customer{}, false
	}
	return web.Customer{Ref: c.CustomerRef, ID: c.CustomerID}, true
}
