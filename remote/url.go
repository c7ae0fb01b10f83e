package remote

import (
	"bytes"
	"io"
	"strings"
)

// RedactPassword is s with the password of every URL in it removed, the
// user name kept: https://deploy:secret@host/x.git is shown and recorded
// as https://deploy@host/x.git (a password in a URL is never
// printed). The password is the userinfo after its first ':', up to the
// last '@' before the host.
func RedactPassword(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/ \t\n'\"<>")
		if end < 0 {
			end = len(s)
		}
		auth := s[:end]
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			if colon := strings.IndexByte(auth[:at], ':'); colon >= 0 {
				b.WriteString(auth[:colon])
				b.WriteString(auth[at:])
				s = s[end:]
				continue
			}
		}
		b.WriteString(auth)
		s = s[end:]
	}
}

// redactingWriter passes each write (a whole line: see lineWriter) on to
// w with the password of url removed wherever it appears.
type redactingWriter struct {
	w        io.Writer
	secret   []byte
	replaced []byte
}

// redactTo is w, or a writer that removes url's password from what goes
// to w when url has one.
func redactTo(w io.Writer, url string) io.Writer {
	shown := RedactPassword(url)
	if shown == url {
		return w
	}
	return &redactingWriter{w: w, secret: []byte(url), replaced: []byte(shown)}
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	n := len(p)
	if bytes.Contains(p, r.secret) {
		p = bytes.ReplaceAll(p, r.secret, r.replaced)
	}
	// git may print the URL in its own way (another path, no scheme):
	// any user:password@ of it goes too
	for _, u := range r.userinfo() {
		p = bytes.ReplaceAll(p, u[0], u[1])
	}
	if _, err := r.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// userinfo is the "user:password@" of the secret URL and what replaces
// it, "user@".
func (r *redactingWriter) userinfo() [][2][]byte {
	s := string(r.secret)
	i := strings.Index(s, "://")
	rest := s[i+3:]
	if end := strings.IndexByte(rest, '/'); end >= 0 {
		rest = rest[:end]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return nil
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return [][2][]byte{{[]byte(rest[:at+1]), []byte(user + "@")}}
}
