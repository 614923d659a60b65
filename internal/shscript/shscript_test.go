package shscript

import (
	"testing"
	"testing/fstest"
)

func TestText(t *testing.T) {
	fsys := fstest.MapFS{
		"s/plain.sh":    {Data: []byte("# header\n# more\necho hi\n# kept\n")},
		"s/inc.sh":      {Data: []byte("# header\na\n#include lib/frag.sh\nb\n")},
		"s/lib/frag.sh": {Data: []byte("# fragment\nfrag\n")},
		"s/first.sh":    {Data: []byte("#include lib/frag.sh\nz\n")},
		"s/broken.sh":   {Data: []byte("# header\n#include lib/none.sh\n")},
		"s/bare.sh":     {Data: []byte("echo\n")},
	}
	tests := []struct {
		file, want string
		wantErr    bool
	}{
		{file: "plain.sh", want: "echo hi\n# kept\n"},
		{file: "inc.sh", want: "a\nfrag\nb\n"},
		{file: "first.sh", want: "frag\nz\n"},
		{file: "bare.sh", want: "echo\n"},
		{file: "broken.sh", wantErr: true},
		{file: "none.sh", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Text(fsys, "s", tt.file)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Text(%s) = %q, %v; want %q, error %v", tt.file, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
