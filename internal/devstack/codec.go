package devstack

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/fenqi/fenqi/codec"
)

// CodecKeys is the payload key ring of `make run` and the environment
// that gives it to the children (worker, API, codec server). A key ring
// set in the environment (FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE) is
// used as it is, and the children inherit it (env is empty). Otherwise it
// is the dev key ring kept in <home>/codec-keys, generated on the first
// run and kept, so that the plans of one run still decode in the next;
// env then sets FENQI_CODEC_KEYS. source says where the ring came from.
func CodecKeys(home string) (ring codec.KeyRing, env []string, source string, err error) {
	if strings.TrimSpace(os.Getenv(codec.EnvKeys)) != "" || strings.TrimSpace(os.Getenv(codec.EnvKeysFile)) != "" {
		ring, err = codec.RingFromEnv()
		if err != nil {
			return codec.KeyRing{}, nil, "", err
		}
		source = codec.EnvKeys
		if os.Getenv(codec.EnvKeys) == "" {
			source = os.Getenv(codec.EnvKeysFile)
		}
		return ring, nil, source, nil
	}
	path := filepath.Join(home, codec.DevKeysFileName)
	ring, err = codec.LoadDevKeyRing(path)
	if err != nil {
		return codec.KeyRing{}, nil, "", err
	}
	return ring, []string{codec.EnvKeys + "=" + ring.Format()}, path, nil
}
