package debian

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildDeb makes a .deb with dpkg-deb from a control file, compressed
// with compressor (gzip, xz, zstd, none).
func buildDeb(t *testing.T, control, compressor string) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatal("dpkg-deb is required for this test: apt-get install dpkg")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, "out.deb")
	out, err := exec.Command("dpkg-deb", "-Z"+compressor, "--root-owner-group", "--build", root, deb).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	return deb
}

func readDebFile(t *testing.T, file string) (*Paragraph, error) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ReadDebControl(f)
}

func TestReadDebControl(t *testing.T) {
	control := "Package: dh-app\nVersion: 1:2.0-1\nArchitecture: amd64\nMaintainer: Rel Eng <releng@example.com>\nDescription: an app\n more about it\n"
	for _, z := range []string{"xz", "gzip", "zstd", "none"} {
		t.Run(z, func(t *testing.T) {
			p, err := readDebFile(t, buildDeb(t, control, z))
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"Package": "dh-app", "Version": "1:2.0-1", "Architecture": "amd64", "Description": "an app\nmore about it"} {
				if v, _ := p.Value(name); v != want {
					t.Errorf("%s = %q, want %q", name, v, want)
				}
			}
		})
	}
}

// arMember is one member of a hand-made ar archive; size, when set, is
// written in the header instead of the data's length.
type arMember struct {
	name string
	data []byte
	size string
}

func arArchive(members ...arMember) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		size := m.size
		if size == "" {
			size = fmt.Sprint(len(m.data))
		}
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10s`\n", m.name, 0, 0, 0, "100644", size)
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// controlTarGz is a control.tar.gz holding the given entries.
func controlTarGz(t testing.TB, entries ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	tw := tar.NewWriter(z)
	for _, h := range entries {
		h.ModTime = time.Unix(0, 0)
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
			h.Linkname = ""
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// reg is a regular file entry whose contents travel in Linkname (see
// controlTarGz).
func reg(name, body string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Linkname: body}
}

func TestReadDebControlRefuses(t *testing.T) {
	binary := arMember{name: "debian-binary", data: []byte("2.0\n")}
	good := controlTarGz(t, &tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}, reg("./control", "Package: dh-app\nVersion: 1.0\n"))
	if p, err := ReadDebControl(bytes.NewReader(arArchive(binary, arMember{name: "_gpgorigin", data: []byte("sig")}, arMember{name: "control.tar.gz", data: good}))); err != nil {
		t.Fatalf("a well-formed hand-made .deb: %v", err)
	} else if v, _ := p.Value("Package"); v != "dh-app" {
		t.Fatalf("Package %q", v)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not ar", []byte("Package: dh-app\n"), "not a Debian package: it is not an ar archive"},
		{"empty", nil, "not a Debian package: it is not an ar archive"},
		{"empty ar", arArchive(), "no control.tar member"},
		{"first member", arArchive(arMember{name: "control.tar.gz", data: good}), `its first member is "control.tar.gz", not debian-binary`},
		{"format 1", arArchive(arMember{name: "debian-binary", data: []byte("1.0\n")}), "not a Debian package of format 2.x"},
		{"data before control", arArchive(binary, arMember{name: "data.tar.gz", data: good}), `member "data.tar.gz" comes where control.tar belongs`},
		// a size of -60 sends a naive reader back to the same header forever
		{"negative size", arArchive(binary, arMember{name: "x", size: "-60"}), "negative size"},
		{"bzip2 control", arArchive(binary, arMember{name: "control.tar.bz2", data: good}), `compressed with ".bz2"`},
		{"not gzip", arArchive(binary, arMember{name: "control.tar.gz", data: []byte("plain")}), "does not decompress"},
		{"no control file", arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(t, reg("./postinst", "#!/bin/sh\n"))}), "has no control file"},
		{"control symlink", arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(t, &tar.Header{Name: "./control", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})}), "its control file is not a regular file"},
		{"two paragraphs", arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(t, reg("./control", "Package: a1\n\nPackage: b1\n"))}), "its control file has 2 paragraphs, not one"},
		{"bad line", arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(t, reg("./control", "Package: a1\nnonsense\n"))}), `its control file: line 2: "nonsense" is not "Field: value"`},
	} {
		_, err := ReadDebControl(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// FuzzReadDebControl checks that no file makes the .deb reader panic or
// loop, whatever its ar headers and members say.
func FuzzReadDebControl(f *testing.F) {
	binary := arMember{name: "debian-binary", data: []byte("2.0\n")}
	f.Add(arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(f, reg("./control", "Package: a1\nVersion: 1\n"))}))
	f.Add(arArchive(binary, arMember{name: "x", size: "-60"}))
	f.Add(arArchive(binary, arMember{name: "control.tar", data: []byte("not a tar")}))
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadDebControl(bytes.NewReader(data))
		if err == nil && p == nil {
			t.Fatal("no paragraph and no error")
		}
	})
}
