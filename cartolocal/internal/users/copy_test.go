package users

import "testing"

func TestMentionsCopy(t *testing.T) {
	for s, want := range map[string]bool{
		"COPY t FROM STDIN": true, "copy t from stdin": true, "select 1; CoPy t FROM stdin": true,
		"select 1": false, "": false, "cop": false, "SELECT 'co' || 'py'": false,
	} {
		if got := mentionsCopy(s); got != want {
			t.Errorf("mentionsCopy(%q) = %v", s, got)
		}
	}
}
