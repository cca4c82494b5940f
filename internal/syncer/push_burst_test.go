package syncer_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// TestPushBurstCostsTwoCalls: 200 platform changes spread over one second
// (a burst: ten writes of 20, 100 ms apart) are pushed as one batch, one SOQL query and
// one collections call, although the burst lasts longer than the
// service's coalescing wait: the push waits while changes keep coming,
// up to three times PushCoalesce. Before, the batch went when the first
// change had waited PushCoalesce, half the burst in it: four calls.
func TestPushBurstCostsTwoCalls(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.save(t, memberConfig())
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	f.pull(t, run, syncer.ModeFull)
	f.eng.PushCoalesce = syncer.DefaultPushCoalesce
	create := func(from, to int) error {
		var items []contact.Input
		for i := from; i < to; i++ {
			in, err := contact.Rules{}.Normalize(contact.Input{MemberID: contact.Some(fmt.Sprintf("B%04d", i)), Name: contact.Some(fmt.Sprintf("Burst %04d", i))})
			if err != nil {
				return err
			}
			items = append(items, in)
		}
		_, err := f.Store.BulkUpsert(f.ctx, f.Tenant.ID, items, contact.IdentityMemberID, contact.OriginAPI)
		return err
	}
	// Ten writes of 20 contacts, 100 ms apart.
	calls0, _ := f.Org.APIUsage()
	start := time.Now()
	if err := create(0, 20); err != nil {
		t.Fatal(err)
	}
	var burst, gap time.Duration // the whole burst; the longest pause between two writes
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := time.Now()
		for i := 1; i < 10; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * 100 * time.Millisecond)))
			if err := create(20*i, 20*i+20); err != nil {
				t.Error(err)
				return
			}
			gap, last = max(gap, time.Since(last)), time.Now()
		}
		burst = time.Since(start)
	}()
	// The push job starts with the first change, as the outbox dispatcher
	// enqueues it, and runs until the outbox is empty.
	for {
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		default:
			time.Sleep(100 * time.Millisecond) // the dispatcher's period
			continue                           // the burst goes on: the next job
		}
		if n == 0 {
			break
		}
	}
	calls, _ := f.Org.APIUsage()
	if burst > 1400*time.Millisecond || gap > 200*time.Millisecond {
		// A pause of PushCoalesce/2 (250 ms) between changes ends a burst.
		t.Skipf("the machine took %s to write a one-second burst (longest pause %s): too loaded to tell", burst, gap)
	}
	if used := calls - calls0; used > 2 {
		t.Errorf("%d API calls for a burst of 200 changes in %s, want ≤ 2 (one query, one collections call)", used, burst)
	}
	if n := f.Org.ContactCount(); n != 200 {
		t.Errorf("Salesforce holds %d contacts, want the 200 pushed", n)
	}
}
