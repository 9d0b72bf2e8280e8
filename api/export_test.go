package api

// Lookup exposes the token lookup to the tests.
func (t *Tokens) Lookup(token string) (Caller, bool) { return t.lookup(token) }
