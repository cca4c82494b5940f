package sfapi

import "testing"

func TestID18(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "0011U00000V0tkD", want: "0011U00000V0tkDQAR"},
		{in: "0011U00000V0tkDQAR", want: "0011U00000V0tkDQAR"},
		{in: "0011U00000V0tkDqar", want: "0011U00000V0tkDQAR"},
		{in: "0011U00000V0tkDAAA", wantErr: true},
		{in: "0011U00000V0tk", wantErr: true},
		{in: "0011U00000V0tk!", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ID18(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("ID18(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if got != tt.want {
			t.Errorf("ID18(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
