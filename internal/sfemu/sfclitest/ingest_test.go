package sfclitest

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSfCLIBulkIngest runs the CLI's Bulk API 2.0 ingest commands (data
// import bulk, data upsert bulk, data bulk results, data delete bulk)
// against the emulator and checks the org's records after each.
func TestSfCLIBulkIngest(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	start := time.Now()
	e := setup(t)
	e.login(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// byMember maps Member_Number__c to the live Contact's fields.
	byMember := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, id := range e.org.ContactIDs(false) {
			rec, _ := e.org.Record(id)
			if m, ok := rec["Member_Number__c"].(string); ok {
				out[m] = rec
			}
		}
		return out
	}
	// jobInfo is the result of upsert and delete bulk: the job's final
	// status (GET /jobs/ingest/{id}).
	type jobInfo struct {
		JobInfo struct {
			ID                     string `json:"id"`
			Operation              string `json:"operation"`
			State                  string `json:"state"`
			NumberRecordsProcessed int    `json:"numberRecordsProcessed"`
			NumberRecordsFailed    int    `json:"numberRecordsFailed"`
		} `json:"jobInfo"`
	}

	// import: two good rows and one without the required LastName. A job
	// with failed rows makes the command fail, naming the job.
	out, stderr, err := e.run("data", "import", "bulk", "--target-org", alias, "--sobject", "Contact", "--wait", "2", "--json",
		"--file", write("import.csv", "LastName,FirstName,Email,Member_Number__c\n"+
			"Bulk One,Ann,bulk1@example.com,CLI-0001\n"+
			"Bulk Two,\"Bob, Jr.\",bulk2@example.com,CLI-0002\n"+
			",Nobody,nobody@example.com,CLI-0009\n"))
	var failed struct {
		Name string `json:"name"`
		Data struct {
			JobID string `json:"jobId"`
			State string `json:"state"`
		} `json:"data"`
	}
	if jerr := json.Unmarshal(out, &failed); err == nil || jerr != nil || failed.Name != "FailedRecordDetailsError" || failed.Data.State != "JobComplete" {
		t.Fatalf("data import bulk with a bad row: got exit %v, %s (stderr %s), want FailedRecordDetailsError for a JobComplete job", err, tail(out, 2000), tail(stderr, 1000))
	}
	m := byMember()
	if m["CLI-0001"]["LastName"] != "Bulk One" || m["CLI-0002"]["FirstName"] != "Bob, Jr." || m["CLI-0009"] != nil {
		t.Errorf("org after import: got CLI-0001 %v, CLI-0002 %v, CLI-0009 %v", m["CLI-0001"], m["CLI-0002"], m["CLI-0009"])
	}

	// bulk results: the figures and the success and failure files.
	var res struct {
		ProcessedRecords  int    `json:"processedRecords"`
		SuccessfulRecords int    `json:"successfulRecords"`
		FailedRecords     int    `json:"failedRecords"`
		Status            string `json:"status"`
		SuccessFilePath   string `json:"successFilePath"`
		FailureFilePath   string `json:"failedFilePath"`
	}
	e.sfJSON(t, &res, "data", "bulk", "results", "--target-org", alias, "--job-id", failed.Data.JobID)
	if res.ProcessedRecords != 3 || res.SuccessfulRecords != 2 || res.FailedRecords != 1 || res.Status != "JobComplete" {
		t.Errorf("data bulk results: got %+v, want JobComplete, 3 processed, 2 successful, 1 failed", res)
	}
	success := readCSV(t, filepath.Join(e.home, res.SuccessFilePath))
	failure := readCSV(t, filepath.Join(e.home, res.FailureFilePath))
	if len(success) != 3 || !slices.Equal(success[0][:2], []string{"sf__Id", "sf__Created"}) || success[1][1] != "true" {
		t.Errorf("success results: got %q, want a header sf__Id,sf__Created,… and 2 created rows", success)
	}
	if len(failure) != 2 || failure[0][0] != "sf__Id" || failure[0][1] != "sf__Error" || !strings.HasPrefix(failure[1][1], "REQUIRED_FIELD_MISSING") {
		t.Errorf("failure results: got %q, want one REQUIRED_FIELD_MISSING row", failure)
	}

	// upsert by the external id: one update, one insert.
	var ups jobInfo
	e.sfJSON(t, &ups, "data", "upsert", "bulk", "--target-org", alias, "--sobject", "Contact", "--external-id", "Member_Number__c", "--wait", "2",
		"--file", write("upsert.csv", "Member_Number__c,LastName,Title\nCLI-0001,Bulk One,Updated by upsert\nCLI-0003,Bulk Three,Inserted by upsert\n"))
	if ups.JobInfo.Operation != "upsert" || ups.JobInfo.State != "JobComplete" || ups.JobInfo.NumberRecordsProcessed != 2 || ups.JobInfo.NumberRecordsFailed != 0 {
		t.Errorf("data upsert bulk: got %+v, want upsert JobComplete, 2 processed, 0 failed", ups.JobInfo)
	}
	m = byMember()
	if m["CLI-0001"]["Title"] != "Updated by upsert" || m["CLI-0003"]["Title"] != "Inserted by upsert" {
		t.Errorf("org after upsert: got CLI-0001 %v, CLI-0003 %v", m["CLI-0001"], m["CLI-0003"])
	}

	// delete the three by id.
	ids := "Id\n" + m["CLI-0001"]["Id"].(string) + "\n" + m["CLI-0002"]["Id"].(string) + "\n" + m["CLI-0003"]["Id"].(string) + "\n"
	var del jobInfo
	e.sfJSON(t, &del, "data", "delete", "bulk", "--target-org", alias, "--sobject", "Contact", "--wait", "2", "--file", write("delete.csv", ids))
	m = byMember()
	if del.JobInfo.Operation != "delete" || del.JobInfo.NumberRecordsProcessed != 3 || del.JobInfo.NumberRecordsFailed != 0 || m["CLI-0001"] != nil || m["CLI-0002"] != nil || m["CLI-0003"] != nil {
		t.Errorf("data delete bulk: got %+v, live CLI-000x %v %v %v; want 3 deleted", del.JobInfo, m["CLI-0001"], m["CLI-0002"], m["CLI-0003"])
	}
	t.Logf("sf CLI bulk ingest test took %s", time.Since(start).Round(time.Millisecond))
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open results: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return rows
}
