package devstack

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serverUser is the unprivileged account PostgreSQL runs as when fenqi is
// started by root (initdb and postgres refuse to run as root). It is nil
// when the current user is not root.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("running as root and neither a postgres nor a nobody account exists to run PostgreSQL as")
}

// dropRoot makes cmd run as serverUser when the current user is root.
func dropRoot(cmd *exec.Cmd) error {
	cred, err := serverUser()
	if err != nil || cred == nil {
		return err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return nil
}

// chownForServer hands dir and everything below it to serverUser, so a
// cluster created by root can be run by the unprivileged account.
func chownForServer(dir string) error {
	cred, err := serverUser()
	if err != nil || cred == nil {
		return err
	}
	err = filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		return fmt.Errorf("hand %s to uid %d for postgres: %w", dir, cred.Uid, err)
	}
	return nil
}
