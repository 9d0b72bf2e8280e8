package devstack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// APITokenFile is where `make run` keeps its operator token for the API,
// under the state folder.
const APITokenFile = "api-token"

// DevOperator is the operator name of `make run`'s API token.
const DevOperator = "dev-operator"

// CustomerTokenFile is where `make run` keeps the customer tokens of the
// example customers (examples/customers), one "ref:token" a line, for the
// customer web page.
const CustomerTokenFile = "api-customer-tokens"

// ExampleCustomers are the refs of the example customers.
var ExampleCustomers = []string{"demo-strong-001", "demo-average-002", "demo-risky-003"}

// APITokens is the API's access for `make run` and the environment that
// gives it to the API. Tokens set in the environment (FENQI_OPERATOR_TOKENS
// or FENQI_CUSTOMER_TOKENS) are used as they are and the API inherits them
// (env is empty). Otherwise an operator token named DevOperator is kept in
// <home>/api-token (mode 0600), generated on the first run and kept; env
// then sets FENQI_OPERATOR_TOKENS. path says where the token is, "" when
// it came from the environment.
func APITokens(home string) (env []string, path string, err error) {
	if os.Getenv("FENQI_OPERATOR_TOKENS") != "" || os.Getenv("FENQI_CUSTOMER_TOKENS") != "" {
		return nil, "", nil
	}
	path = filepath.Join(home, APITokenFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, "", fmt.Errorf("generate the API token: %w", err)
		}
		b = []byte(hex.EncodeToString(secret) + "\n")
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return nil, "", fmt.Errorf("write the API token %s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, "", fmt.Errorf("write the API token %s: %w", path, err)
		}
	default:
		return nil, "", fmt.Errorf("read the API token %s: %w", path, err)
	}
	token := strings.TrimSpace(string(b))
	if len(token) < 16 || strings.ContainsAny(token, ":, \t") {
		return nil, "", fmt.Errorf("the API token in %s is malformed: delete the file to get a new one", path)
	}
	customers, err := customerTokens(filepath.Join(home, CustomerTokenFile))
	if err != nil {
		return nil, "", err
	}
	return []string{"FENQI_OPERATOR_TOKENS=" + DevOperator + ":" + token, "FENQI_CUSTOMER_TOKENS=" + customers}, path, nil
}

// customerTokens reads (or makes, on the first run) the example customers'
// tokens in path and returns them as FENQI_CUSTOMER_TOKENS has them.
func customerTokens(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		var lines []string
		for _, ref := range ExampleCustomers {
			secret := make([]byte, 24)
			if _, err := rand.Read(secret); err != nil {
				return "", fmt.Errorf("generate a customer token: %w", err)
			}
			lines = append(lines, ref+":"+hex.EncodeToString(secret))
		}
		b = []byte(strings.Join(lines, "\n") + "\n")
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return "", fmt.Errorf("write the customer tokens %s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", fmt.Errorf("write the customer tokens %s: %w", path, err)
		}
	} else if err != nil {
		return "", fmt.Errorf("read the customer tokens %s: %w", path, err)
	}
	var entries []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			entries = append(entries, line)
		}
	}
	if len(entries) == 0 {
		return "", fmt.Errorf("the customer tokens in %s are empty: delete the file to get new ones", path)
	}
	return strings.Join(entries, ","), nil
}
