package remote

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pkg/sftp"
)

// sftpClient returns the SFTP client of the current connection, starting it
// on first use. It is started without holding c.mu, because starting it is a
// round trip that may hang on a dead connection and Close must not wait for
// that.
func (c *Client) sftpClient() (*sftp.Client, error) {
	c.mu.Lock()
	conn, sc := c.conn, c.sftp
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return nil, fmt.Errorf("%s: client closed", c.cfg.Name)
	case conn == nil:
		return nil, fmt.Errorf("%s: not connected", c.cfg.Name)
	case sc != nil:
		return sc, nil
	}

	sc, err := sftp.NewClient(conn)
	if err != nil {
		return nil, fmt.Errorf("start sftp on %s: %w", c.cfg.Name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed || c.conn != conn:
		_ = sc.Close()
		return nil, fmt.Errorf("%s: connection closed while starting sftp", c.cfg.Name)
	case c.sftp != nil:
		_ = sc.Close() // a concurrent caller was first
		return c.sftp, nil
	}
	c.sftp = sc
	return sc, nil
}

// sftpFailed forgets sc if err says its session is gone, so the next use
// starts a new one instead of failing forever.
func (c *Client) sftpFailed(sc *sftp.Client, err error) {
	if !errors.Is(err, sftp.ErrSSHFxConnectionLost) && !errors.Is(err, io.EOF) &&
		!errors.Is(err, os.ErrClosed) {
		return
	}
	c.mu.Lock()
	if c.sftp == sc {
		c.sftp = nil
	}
	c.mu.Unlock()
	_ = sc.Close()
}
