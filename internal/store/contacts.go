package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sfsync/sfsync/internal/contact"
)

// ContactConflict reports that a unique value (member ID, phone, e-mail or
// a social identity) already belongs to another contact.
type ContactConflict struct {
	Field     string // "member_id", "phone", "email" or "social_identities[i]"
	Value     string
	ContactID string // the contact that holds it
}

func (c *ContactConflict) Error() string {
	return fmt.Sprintf("%s %q already belongs to contact %s", c.Field, c.Value, c.ContactID)
}

// Unwrap makes a ContactConflict match ErrConflict.
func (c *ContactConflict) Unwrap() error { return ErrConflict }

// Outbox operations.
const (
	OpCreate        = "create"
	OpUpdate        = "update"
	OpDelete        = "delete"
	OpSocialAdded   = "social_added"
	OpSocialRemoved = "social_removed"
)

// OutboxEntry is one recorded contact change, written in the same
// transaction as the change itself.
type OutboxEntry struct {
	ID            int64                   `json:"id"`
	TenantID      string                  `json:"tenant_id"`
	ContactID     string                  `json:"contact_id"`
	Op            string                  `json:"op"`
	ChangedFields []string                `json:"changed_fields"`
	Social        *contact.SocialIdentity `json:"social,omitempty"`
	Origin        contact.Origin          `json:"origin"`
	Created       time.Time               `json:"created_at"`
	Attempts      int                     `json:"attempts,omitempty"`
	LastError     string                  `json:"last_error,omitempty"`
}

// lockTenant serialises contact writes per tenant on PostgreSQL, so the
// uniqueness pre-checks below cannot race. SQLite's single connection and
// immediate transactions serialise them already.
func (s *Store) lockTenant(ctx context.Context, tx *sql.Tx, tenantID string) error {
	if s.Dialect != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, contactLockKey(tenantID))
	return mapErr(err)
}

// contactLockKey names the tenant's contact write lock (lockTenant, and
// writeTx with lockContacts).
func contactLockKey(tenantID string) string { return "contacts:" + tenantID }

const contactCols = `id, member_id, name, phone, email, birthday, gender, tags, custom, created_at, updated_at, version`

func scanContact(row interface{ Scan(...any) error }, tenantID string) (contact.Contact, error) {
	var c contact.Contact
	var memberID, name, phone, email, birthday, gender sql.NullString
	var tags, custom string
	var created, updated int64
	if err := row.Scan(&c.ID, &memberID, &name, &phone, &email, &birthday, &gender, &tags, &custom, &created, &updated, &c.Version); err != nil {
		return c, mapErr(err)
	}
	c.TenantID = tenantID
	c.MemberID, c.Name, c.Phone, c.Email, c.Birthday = memberID.String, name.String, phone.String, email.String, birthday.String
	c.Gender = contact.Gender(gender.String)
	c.Created, c.Updated = fromMicros(created), fromMicros(updated)
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return c, fmt.Errorf("contact %s: tags: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(custom), &c.Custom); err != nil {
		return c, fmt.Errorf("contact %s: custom fields: %w", c.ID, err)
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Custom == nil {
		c.Custom = map[string]any{}
	}
	c.Social = []contact.SocialIdentity{}
	return c, nil
}

// GetContact returns one contact with its social identities.
func (s *Store) GetContact(ctx context.Context, tenantID, id string) (contact.Contact, error) {
	return s.getContact(ctx, s.db(), tenantID, id)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) getContact(ctx context.Context, q querier, tenantID, id string) (contact.Contact, error) {
	c, err := scanContact(q.QueryRowContext(ctx, `SELECT `+contactCols+` FROM contacts WHERE tenant_id = $1 AND id = $2`, tenantID, id), tenantID)
	if err != nil {
		return c, err
	}
	list := []*contact.Contact{&c}
	return c, s.loadSocial(ctx, q, tenantID, list)
}

// loadSocial fills the social identities of the given contacts.
func (s *Store) loadSocial(ctx context.Context, q querier, tenantID string, list []*contact.Contact) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*contact.Contact, len(list))
	ids := make([]any, 0, len(list))
	for _, c := range list {
		byID[c.ID] = c
		ids = append(ids, c.ID)
	}
	chunkSize := 500
	if s.Dialect == Postgres {
		chunkSize = len(ids) // one array, probed (probeQuery)
	}
	for chunk := range slices.Chunk(ids, chunkSize) {
		var query string
		var args []any
		if s.Dialect == Postgres {
			// created_at is read for the order only; the probe's rows come
			// back as one list, ordered as IN's were.
			query = `SELECT contact_id, channel_type, channel_id, user_id FROM (` +
				probeQuery("contact_id, channel_type, channel_id, user_id, created_at", "social_identities", "contact_id") +
				`) s ORDER BY created_at, channel_type, channel_id, user_id`
			args = []any{tenantID, distinct(anyStrings(chunk))}
		} else {
			var cond string
			cond, args = s.in("contact_id", append([]any{tenantID}, chunk...), 2)
			query = `SELECT contact_id, channel_type, channel_id, user_id FROM social_identities
			WHERE tenant_id = $1 AND ` + cond + ` ORDER BY created_at, channel_type, channel_id, user_id`
		}
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return mapErr(err)
		}
		for rows.Next() {
			var cid string
			var si contact.SocialIdentity
			if err := rows.Scan(&cid, &si.ChannelType, &si.ChannelID, &si.UserID); err != nil {
				rows.Close()
				return err
			}
			if c := byID[cid]; c != nil {
				c.Social = append(c.Social, si)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// placeholders returns "$from, $from+1, …" n times.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// ContactFilter selects contacts for ListContacts. Identity values must
// already be normalised (contact.NormalizePhone, NormalizeEmail).
type ContactFilter struct {
	MemberID     string
	Phone        string
	Email        string
	Social       *contact.SocialIdentity // ChannelID may be empty: any channel of that type
	UpdatedSince time.Time
	// After is the last ID of the previous page ("" for the first page).
	After string
	Limit int
}

// ListContacts returns up to f.Limit contacts ordered by ID, after f.After.
func (s *Store) ListContacts(ctx context.Context, tenantID string, f ContactFilter) ([]contact.Contact, error) {
	where := []string{"c.tenant_id = $1"}
	args := []any{tenantID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.MemberID != "" {
		add("c.member_id = ?", f.MemberID)
	}
	if f.Phone != "" {
		add("c.phone = ?", f.Phone)
	}
	if f.Email != "" {
		add("c.email = ?", f.Email)
	}
	if !f.UpdatedSince.IsZero() {
		add("c.updated_at >= ?", micros(f.UpdatedSince))
	}
	if f.After != "" {
		add("c.id > ?", f.After)
	}
	if f.Social != nil {
		cond := "EXISTS (SELECT 1 FROM social_identities si WHERE si.tenant_id = c.tenant_id AND si.contact_id = c.id"
		args = append(args, f.Social.ChannelType, f.Social.UserID)
		cond += fmt.Sprintf(" AND si.channel_type = $%d AND si.user_id = $%d", len(args)-1, len(args))
		if f.Social.ChannelID != "" {
			args = append(args, f.Social.ChannelID)
			cond += fmt.Sprintf(" AND si.channel_id = $%d", len(args))
		}
		where = append(where, cond+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit)
	q := `SELECT ` + prefixCols("c.", contactCols) + ` FROM contacts c WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY c.id LIMIT $%d`, len(args))
	rows, err := s.db().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	var out []contact.Contact
	for rows.Next() {
		c, err := scanContact(rows, tenantID)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	ptrs := make([]*contact.Contact, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.loadSocial(ctx, s.db(), tenantID, ptrs)
}

func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, p := range parts {
		parts[i] = prefix + p
	}
	return strings.Join(parts, ", ")
}

// CreateContact stores a new contact from a normalised input.
func (s *Store) CreateContact(ctx context.Context, tenantID string, in contact.Input, origin contact.Origin) (contact.Contact, error) {
	res, err := s.writeContacts(ctx, tenantID, []writeItem{{in: in, mode: writeCreate}}, origin, nil)
	if err != nil {
		return contact.Contact{}, err
	}
	if res[0].Err != nil {
		return contact.Contact{}, res[0].Err
	}
	return res[0].Contact, nil
}

// UpdateContact applies a normalised partial update to contact id. Present
// fields are set, null fields cleared; social_identities, when present,
// replace the contact's whole list. changed is false when nothing differed.
func (s *Store) UpdateContact(ctx context.Context, tenantID, id string, in contact.Input, origin contact.Origin) (c contact.Contact, changed bool, err error) {
	// In update mode the key is the contact's ID. Concurrent updates of
	// the tenant share a transaction (combine.go).
	r, err := s.writeCombined(ctx, tenantID, writeItem{in: in, mode: writeUpdate, key: id}, origin)
	if err != nil {
		return contact.Contact{}, false, err
	}
	return r.Contact, r.Outcome == OutcomeUpdated, r.Err
}

// DeleteContact deletes a contact and records it in the outbox.
func (s *Store) DeleteContact(ctx context.Context, tenantID, id string, origin contact.Origin) error {
	return s.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM social_identities WHERE tenant_id = $1 AND contact_id = $2`, tenantID, id); err != nil {
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err := affected(res, err); err != nil {
			return err
		}
		return s.insertOutbox(ctx, tx, []OutboxEntry{{TenantID: tenantID, ContactID: id, Op: OpDelete, Origin: origin}})
	})
}

// Bulk upsert outcomes.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeFailed    = "failed"
)

// UpsertResult is the outcome for one input of BulkUpsert.
type UpsertResult struct {
	Outcome string
	Contact contact.Contact
	Err     error
}

// BulkUpsert creates or updates each normalised input, matched by the
// given identity. Social identities in an input are added to the matched
// contact's. Every item gets its own result; one bad item never fails the
// others. The whole batch is written in one transaction.
func (s *Store) BulkUpsert(ctx context.Context, tenantID string, items []contact.Input, matchBy contact.Identity, origin contact.Origin) ([]UpsertResult, error) {
	done := false
	return s.BulkUpsertChunks(ctx, tenantID, len(items), func() ([]contact.Input, error) {
		if done {
			return nil, nil
		}
		done = true
		return items, nil
	}, matchBy, origin)
}

// BulkUpsertChunks is BulkUpsert of the inputs next hands out, a chunk at
// a time until it returns none, in one transaction: each chunk is loaded,
// decided and written before next is called again, so the caller can
// prepare chunk k+1 (decode, normalise) while chunk k is written. The
// decisions carry over from chunk to chunk, so the result is the one
// BulkUpsert gives for all the inputs at once, and the results are in the
// order of all inputs. An error from next rolls back all. next is called
// while the tenant's write lock is held: it should be quick or already
// under way. On SQLite it is called on another goroutine (one at a time),
// a chunk ahead of the writer, whose stored contacts are read there too
// (lookAhead). total is how many inputs to expect in all, to size the
// batch's maps once (0: by the first chunk).
func (s *Store) BulkUpsertChunks(ctx context.Context, tenantID string, total int, next func() ([]contact.Input, error), matchBy contact.Identity, origin contact.Origin) ([]UpsertResult, error) {
	switch matchBy {
	case contact.IdentityMemberID, contact.IdentityPhone, contact.IdentityEmail:
	default:
		return nil, fmt.Errorf("match_by %q: must be member_id, phone or email", matchBy)
	}
	return s.writeContactChunks(ctx, tenantID, func() ([]writeItem, error) {
		items, err := next()
		if err != nil || len(items) == 0 {
			return nil, err
		}
		w := make([]writeItem, len(items))
		for i, in := range items {
			w[i] = writeItem{in: in, mode: writeUpsert, key: string(matchBy)}
		}
		return w, nil
	}, total, origin, nil, true)
}

// ContactOp is one write of ApplyContacts: an update of contact ID (present
// fields set, null fields cleared, social identities replaced when
// present), or a create when ID is empty.
type ContactOp struct {
	ID    string
	Input contact.Input
}

// ApplyContacts writes ops in one transaction, like BulkUpsert but
// addressed by contact ID, and then calls then (if not nil) inside the
// same transaction with the results, so the caller can record links and
// logs atomically with the contacts. An error from then rolls back all.
func (s *Store) ApplyContacts(ctx context.Context, tenantID string, ops []ContactOp, origin contact.Origin, then func(tx *sql.Tx, results []UpsertResult) error) ([]UpsertResult, error) {
	w := make([]writeItem, len(ops))
	for i, op := range ops {
		if op.ID == "" {
			w[i] = writeItem{in: op.Input, mode: writeCreate}
		} else {
			w[i] = writeItem{in: op.Input, mode: writeUpdate, key: op.ID}
		}
	}
	return s.writeContacts(ctx, tenantID, w, origin, then)
}

type writeMode int

// writeItem is one input of writeContacts: key is the match identity for
// writeUpsert and the contact ID for writeUpdate.
type writeItem struct {
	in   contact.Input
	mode writeMode
	key  string
}

const (
	writeCreate writeMode = iota
	writeUpdate
	writeUpsert
)

// writeContacts is the one write path for contacts. It loads every
// contact that any input could touch in a few IN queries, decides each
// item in memory in order (so duplicates inside one batch behave as if
// written one by one), then writes the changes and their outbox rows.
func (s *Store) writeContacts(ctx context.Context, tenantID string, items []writeItem, origin contact.Origin, then func(tx *sql.Tx, results []UpsertResult) error) ([]UpsertResult, error) {
	done := false
	return s.writeContactChunks(ctx, tenantID, func() ([]writeItem, error) {
		if done {
			return nil, nil
		}
		done = true
		return items, nil
	}, len(items), origin, then, false)
}

// writeContactChunks is writeContacts of the items next hands out, a chunk
// at a time, in one transaction. The batch's maps (every contact loaded or
// written so far, by each unique value) carry over from chunk to chunk, so
// a later chunk decides as if all its items had come in one batch; what a
// chunk wrote is flushed before the next chunk's contacts are loaded.
// With ahead, on SQLite, the chunks are asked for and their stored
// contacts read on a read-only connection one chunk ahead of the writer
// (lookAhead).
func (s *Store) writeContactChunks(ctx context.Context, tenantID string, next func() ([]writeItem, error), total int, origin contact.Origin, then func(tx *sql.Tx, results []UpsertResult) error, ahead bool) ([]UpsertResult, error) {
	results := make([]UpsertResult, 0, total)
	err := s.writeTx(ctx, tenantID, true, func(tx *sql.Tx) error {
		w := &batch{s: s, tx: tx, tenantID: tenantID, origin: origin, now: s.Now().UTC().Truncate(time.Microsecond), total: total}
		var read <-chan lookedUp
		if ahead && (s.reader != nil || s.Dialect == Postgres) && s.rehearsal == nil {
			var stop func()
			read, stop = s.lookAhead(ctx, tenantID, next)
			defer stop()
		}
		for {
			var items []writeItem
			if read != nil {
				c, ok := <-read
				if !ok {
					break
				}
				if c.noConn {
					read = nil // the look-ahead asked next for nothing: the writer goes on alone
					continue
				}
				if c.err != nil {
					return c.err
				}
				items = c.items
				w.start(len(items))
				if err := w.absorb(ctx, c.found, true); err != nil {
					return err
				}
			} else {
				var err error
				if items, err = next(); err != nil {
					return err
				}
				if len(items) == 0 {
					break
				}
				if err := w.load(ctx, items); err != nil {
					return err
				}
			}
			for _, it := range items {
				results = append(results, w.decide(it.in, it.mode, it.key))
			}
			if err := w.flush(ctx); err != nil {
				return err
			}
		}
		if then != nil {
			return then(tx, results)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// lookedUp is a chunk of writes and the stored contacts it could touch,
// with their social identities (lookAhead).
type lookedUp struct {
	items []writeItem
	found []*contact.Contact
	err   error
	// noConn: no connection was free within lookAheadWait (PostgreSQL);
	// the look-ahead has stopped without asking next for anything.
	noConn bool
}

// lookAheadWait bounds how long a look-ahead waits for a connection of
// PostgreSQL's pool. The pool is the writers' too: with every connection
// held by transactions that wait, themselves, for a look-ahead (or for
// the tenant's lock held by one), a look-ahead that waited for ever would
// never end (TestLookAheadWithoutAFreeConnection). SQLite's look-ahead
// uses the read-only pool, which no writer holds.
const lookAheadWait = 100 * time.Millisecond

// lookAhead asks next for chunks and reads each chunk's stored contacts on
// another connection (one of SQLite's read-only ones; on PostgreSQL one of
// the pool's), on its own goroutine, one chunk ahead of the writer: the
// writer decides and writes chunk k while chunk k+1 is read. In the write
// transaction those look-ups were a fifth of the writer's time in a bulk
// import on SQLite, all on the one core the writer has, and on PostgreSQL
// a round trip and the server's index probes the writer waited for
// (issue 14). A chunk whose look-up fails is sent with the error, and
// nothing after it. stop ends the goroutine and waits for it.
//
// It must be called inside the write transaction, after it began: the
// other connection sees the last commit. While the transaction holds
// SQLite's one write lock (BEGIN IMMEDIATE), nobody can commit, from this
// process or another; on PostgreSQL it holds the tenant's contact lock
// (writeTx with lockContacts), which every write of the tenant's contacts
// and social identities takes (the batch's writeTx, DeleteContact's
// lockTenant), so no commit changes them. Either way the last commit is,
// for these rows, the state the transaction began with. What the
// transaction itself has written since then, the other connection does
// not see; the batch wrote all of it and holds every contact it wrote,
// newer than what the look-up finds, which absorb keeps. So a chunk looked
// up here finds what a look-up in the transaction would find, but for
// contacts the batch holds already.
func (s *Store) lookAhead(ctx context.Context, tenantID string, next func() ([]writeItem, error)) (read <-chan lookedUp, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan lookedUp, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(out)
		send := func(c lookedUp) bool {
			select {
			case out <- c:
				return c.err == nil
			case <-ctx.Done():
				return false
			}
		}
		// A panic (in next, say) fails the request, as it did on the
		// handler's goroutine (net/http recovers it there), not the
		// process.
		defer func() {
			if r := recover(); r != nil {
				send(lookedUp{err: fmt.Errorf("store: bulk look-up: panic: %v", r)})
			}
		}()
		var conn *sql.Conn
		var err error
		if s.Dialect == Postgres {
			wctx, cancel := context.WithTimeout(ctx, lookAheadWait)
			conn, err = s.DB.Conn(wctx)
			waited := wctx.Err() != nil
			cancel()
			if err != nil && waited && ctx.Err() == nil {
				// Only the wait's end: a failed connection is reported
				// as the error it is.
				send(lookedUp{noConn: true})
				return
			}
		} else {
			conn, err = s.reader.Conn(ctx)
		}
		if err != nil {
			send(lookedUp{err: mapErr(err)})
			return
		}
		defer conn.Close()
		// SQLite: every chunk runs the same few texts (IN lists of 500):
		// the connection keeps them prepared (sqlitedriver.go).
		// PostgreSQL: the probes of a chunk in one batch, on the
		// connection's own pgx connection (probePostgres).
		l := contactLookup{s: s, tenantID: tenantID, q: conn, query: conn.QueryContext}
		if s.Dialect == Postgres {
			if err := conn.Raw(func(dc any) error {
				if c, ok := dc.(*stdlib.Conn); ok {
					l.pc = c.Conn()
				}
				return nil
			}); err != nil {
				send(lookedUp{err: mapErr(err)})
				return
			}
		}
		none := func(string) bool { return false }
		for {
			items, err := next()
			if err != nil {
				send(lookedUp{err: err})
				return
			}
			if len(items) == 0 {
				return
			}
			found, err := l.contacts(ctx, items, none)
			if err == nil {
				// Once each: loadSocial fills one copy of a contact
				// found by two values, and absorb keeps the first.
				seen := make(map[string]bool, len(found))
				found = slices.DeleteFunc(found, func(c *contact.Contact) bool {
					dup := seen[c.ID]
					seen[c.ID] = true
					return dup
				})
				if s.Dialect != Postgres { // PostgreSQL read them with the contacts
					err = s.loadSocial(ctx, conn, tenantID, found)
				}
			}
			if !send(lookedUp{items: items, found: found, err: err}) {
				return
			}
		}
	})
	return out, func() { cancel(); wg.Wait() }
}

type batch struct {
	s        *Store
	tx       *sql.Tx
	tenantID string
	origin   contact.Origin
	now      time.Time
	total    int // inputs expected in all chunks, to size the maps

	byID     map[string]*contact.Contact
	byMember map[string]*contact.Contact
	byPhone  map[string]*contact.Contact
	byEmail  map[string]*contact.Contact
	// bySocial is keyed by the identity itself, not its Key(): the key's
	// string was built twice for every identity of every item (issue 14).
	bySocial map[contact.SocialIdentity]*contact.Contact

	created   []*contact.Contact
	updated   []*contact.Contact
	written   map[*contact.Contact]bool // in created or updated
	socialAdd []socialRow
	socialDel []socialRow
	outbox    []OutboxEntry
	// movesUnique: an update gives a contact another member ID, phone or
	// email, so the batch's unique values are cleared before its updates
	// (flush).
	movesUnique bool
}

type socialRow struct {
	contactID string
	si        contact.SocialIdentity
}

func (w *batch) load(ctx context.Context, items []writeItem) error {
	w.start(len(items))
	found, err := w.lookup().contacts(ctx, items, func(id string) bool { return w.byID[id] != nil })
	if err != nil {
		return err
	}
	return w.absorb(ctx, found, false)
}

// start readies the batch for a chunk of n items.
func (w *batch) start(n int) {
	// Sized for a batch of new contacts, each indexed once by every value:
	// grown from empty, the maps rehashed about 14 times per 10,000 items.
	// The maps outlive a chunk (writeContactChunks); what is to be
	// written starts empty with each, the previous chunk's being flushed.
	if w.byID == nil {
		// Sized for all chunks: sized by the first of ten, the maps grew
		// through a request's chunks, 7% of a bulk import's writer CPU.
		n := max(n, w.total)
		w.byID = make(map[string]*contact.Contact, n)
		w.byMember, w.byPhone, w.byEmail = make(map[string]*contact.Contact, n), make(map[string]*contact.Contact, n), make(map[string]*contact.Contact, n)
		w.bySocial = make(map[contact.SocialIdentity]*contact.Contact, n)
	}
	w.created, w.updated, w.socialAdd, w.socialDel = nil, nil, nil, nil
	w.written = make(map[*contact.Contact]bool, n)
	w.outbox = make([]OutboxEntry, 0, n)
}

// absorb adds the contacts a look-up found to the batch, but for those it
// holds already: its own copy is newer (it may have written it). Their
// social identities are read here unless withSocial (read already).
func (w *batch) absorb(ctx context.Context, found []*contact.Contact, withSocial bool) error {
	var uniq []*contact.Contact
	for _, c := range found {
		if w.byID[c.ID] == nil {
			w.byID[c.ID] = c
			uniq = append(uniq, c)
		}
	}
	if !withSocial && w.s.Dialect != Postgres { // PostgreSQL read them with the contacts (read)
		if err := w.s.loadSocial(ctx, w.tx, w.tenantID, uniq); err != nil {
			return err
		}
	}
	for _, c := range uniq {
		w.index(c)
	}
	return nil
}

// lookup is the batch's look-up in its own transaction.
func (w *batch) lookup() contactLookup {
	return contactLookup{s: w.s, tenantID: w.tenantID, q: w.tx, pc: w.s.pgConns.conn(w.tx),
		query: func(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
			return w.tx.QueryContext(ctx, q, args...)
		}}
}

// contactLookup reads the stored contacts a chunk of writes could touch,
// through query (the write transaction's prepared statements) or q; on
// PostgreSQL, in a write transaction with a connection of its own (pc),
// in one batch (probePostgres).
type contactLookup struct {
	s        *Store
	tenantID string
	q        querier
	pc       *pgx.Conn
	query    func(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// contacts reads every stored contact that any of items could touch (the
// contacts they update, and those that hold any of their unique values
// or social identities) in a few IN queries. Contacts for which known
// reports true are not read again when found by a social identity
// alone. On SQLite their social identities are not read (absorb does).
func (l contactLookup) contacts(ctx context.Context, items []writeItem, known func(id string) bool) ([]*contact.Contact, error) {
	var members, phones, emails, updateIDs []any
	socialUsers := map[string][]any{} // by channel type
	for _, it := range items {
		in := it.in
		if it.mode == writeUpdate {
			updateIDs = append(updateIDs, it.key)
		}
		if v := in.MemberID; v.Set && !v.Null {
			members = append(members, v.Value)
		}
		if v := in.Phone; v.Set && !v.Null {
			phones = append(phones, v.Value)
		}
		if v := in.Email; v.Set && !v.Null {
			emails = append(emails, v.Value)
		}
		if in.Social.Set {
			for _, si := range in.Social.Value {
				socialUsers[si.ChannelType] = append(socialUsers[si.ChannelType], si.UserID)
			}
		}
	}
	var found []*contact.Contact
	var socialOwners []any
	probed := false
	if l.pc != nil {
		var err error
		found, socialOwners, err = l.probePostgres(ctx, [][]any{updateIDs, members, phones, emails}, socialUsers)
		if err != nil {
			return nil, err
		}
		probed = true
	}
	loadWhere := func(col string, vals []any) error {
		if l.s.Dialect == Postgres {
			// One array parameter: one statement per column and batch.
			// One index probe per value, whatever the planner estimates
			// (OFFSET 0 keeps the subquery a probe): with `IN (SELECT
			// unnest(…))` and statistics from before a bulk import, it
			// took the tenant for a few dozen rows and hash-joined all of
			// them, for every column of every batch, so an import slowed
			// as the tenant grew (1,000 member IDs at 50,000 contacts:
			// 31.7 ms, against 2.1 ms probed; issue 14). A value named
			// twice finds its contact twice; absorb keeps one.
			if len(vals) == 0 {
				return nil
			}
			return l.read(ctx, &found, probeQuery(contactCols+", "+socialOfContact, "contacts", col), l.tenantID, distinct(anyStrings(vals)))
		}
		for chunk := range slices.Chunk(vals, 500) {
			args := padIn(append([]any{l.tenantID}, chunk...), 2)
			if err := l.read(ctx, &found, `SELECT `+contactCols+` FROM contacts WHERE tenant_id = $1 AND `+col+` IN (`+l.s.ph(2, len(args)-1)+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	}
	if !probed { // one statement a column and channel type
		for i, vals := range [][]any{updateIDs, members, phones, emails} {
			if err := loadWhere(loadCols[i], vals); err != nil {
				return nil, err
			}
		}
		// Contacts that own any of the social identities named, found by the
		// key's prefix (tenant, channel type, user ID).
		for _, channelType := range slices.Sorted(maps.Keys(socialUsers)) {
			users := socialUsers[channelType]
			chunkSize := 500
			if l.s.Dialect == Postgres {
				chunkSize = max(1, len(users))
			}
			for chunk := range slices.Chunk(users, chunkSize) {
				// No DISTINCT: SQLite would pick the contact index for it and
				// scan every identity of the tenant; duplicates are dropped below.
				args := padIn(append([]any{l.tenantID, channelType}, chunk...), 3)
				q := `SELECT contact_id FROM social_identities WHERE tenant_id = $1 AND channel_type = $2 AND user_id IN (` + l.s.ph(3, len(args)-2) + `)`
				if l.s.Dialect == Postgres {
					args, q = []any{l.tenantID, channelType, anyStrings(chunk)}, socialOwnersProbe
				}
				rows, err := l.query(ctx, q, args...)
				if err != nil {
					return nil, mapErr(err)
				}
				for rows.Next() {
					var id string
					if err := rows.Scan(&id); err != nil {
						rows.Close()
						return nil, err
					}
					socialOwners = append(socialOwners, id)
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return nil, mapErr(err)
				}
			}
		}
	}
	// Owners already loaded by a unique value, or by an earlier chunk,
	// need no second read.
	loaded := make(map[string]bool, len(found))
	for _, c := range found {
		loaded[c.ID] = true
	}
	socialOwners = slices.DeleteFunc(socialOwners, func(id any) bool { return loaded[id.(string)] || known(id.(string)) })
	if err := loadWhere("id", socialOwners); err != nil {
		return nil, err
	}
	return found, nil
}

// loadCols are the columns load reads contacts by, in its order.
var loadCols = [...]string{"id", "member_id", "phone", "email"}

// socialOwnersProbe reads the contacts owning social identities of
// channel type $2 with the user IDs $3 (PostgreSQL): one index probe per
// user ID, whatever the planner estimates: without statistics it took
// (tenant, channel type) for a handful of rows and hash-joined the
// tenant's every identity (OFFSET 0 keeps the subquery a probe).
const socialOwnersProbe = `SELECT si.contact_id FROM unnest($3::text[]) AS u(user_id),
	LATERAL (SELECT contact_id FROM social_identities WHERE tenant_id = $1 AND channel_type = $2 AND user_id = u.user_id OFFSET 0) si`

// probePostgres is contacts' reads in a write transaction on PostgreSQL:
// the contacts holding any of vals (by loadCols) and the owners of the
// social identities named, each a probe (probeQuery, socialOwnersProbe),
// all in one batch: one round trip where there were one per column and
// channel type, four or five per chunk of a bulk import.
func (l contactLookup) probePostgres(ctx context.Context, vals [][]any, socialUsers map[string][]any) (found []*contact.Contact, owners []any, err error) {
	b := &pgx.Batch{}
	var kinds []bool // true: contacts; false: social owners
	for i, v := range vals {
		if len(v) == 0 {
			continue
		}
		b.Queue(probeQuery(contactCols+", "+socialOfContact, "contacts", loadCols[i]), l.tenantID, distinct(anyStrings(v)))
		kinds = append(kinds, true)
	}
	for _, channelType := range slices.Sorted(maps.Keys(socialUsers)) {
		b.Queue(socialOwnersProbe, l.tenantID, channelType, anyStrings(socialUsers[channelType]))
		kinds = append(kinds, false)
	}
	if len(kinds) == 0 {
		return nil, nil, nil
	}
	br := l.pc.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = mapErr(cerr)
		}
	}()
	for _, contacts := range kinds {
		rows, err := br.Query()
		if err != nil {
			return nil, nil, mapErr(err)
		}
		for rows.Next() {
			if contacts {
				c, err := scanContactWithSocial(rows, l.tenantID)
				if err != nil {
					rows.Close()
					return nil, nil, err
				}
				found = append(found, c)
				continue
			}
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, nil, mapErr(err)
			}
			owners = append(owners, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, mapErr(err)
		}
	}
	return found, owners, nil
}

// socialOfContact is a contact's social identities as a JSON array of
// [channel type, channel ID, user ID], in loadSocial's order: on
// PostgreSQL the batch reads them in the statement that reads the
// contacts, one round trip fewer in every transaction of the API's
// combined updates, each of which holds the tenant's write lock until
// its commit (issue 14).
const socialOfContact = `(SELECT coalesce(json_agg(json_build_array(s.channel_type, s.channel_id, s.user_id)
	ORDER BY s.created_at, s.channel_type, s.channel_id, s.user_id), '[]')
	FROM social_identities s WHERE s.tenant_id = contacts.tenant_id AND s.contact_id = contacts.id)`

// withSocial scans a row of contactCols followed by socialOfContact.
type withSocial struct {
	rows   interface{ Scan(...any) error }
	social *[]byte
}

func (r withSocial) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.social)...) }

// scanContactWithSocial scans a row of contactCols followed by
// socialOfContact (PostgreSQL).
func scanContactWithSocial(row interface{ Scan(...any) error }, tenantID string) (*contact.Contact, error) {
	var social []byte
	c, err := scanContact(withSocial{row, &social}, tenantID)
	if err != nil {
		return nil, err
	}
	var list [][3]string
	if err := json.Unmarshal(social, &list); err != nil {
		return nil, fmt.Errorf("contact %s: social identities: %w", c.ID, err)
	}
	for _, v := range list {
		c.Social = append(c.Social, contact.SocialIdentity{ChannelType: v[0], ChannelID: v[1], UserID: v[2]})
	}
	return &c, nil
}

// read reads contacts; on PostgreSQL the statement ends with
// socialOfContact, and their social identities are read too.
func (l contactLookup) read(ctx context.Context, into *[]*contact.Contact, q string, args ...any) error {
	rows, err := l.query(ctx, q, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		if l.s.Dialect == Postgres {
			c, err := scanContactWithSocial(rows, l.tenantID)
			if err != nil {
				return err
			}
			*into = append(*into, c)
			continue
		}
		c, err := scanContact(rows, l.tenantID)
		if err != nil {
			return err
		}
		*into = append(*into, &c)
	}
	return mapErr(rows.Err())
}

func (w *batch) index(c *contact.Contact) {
	if c.MemberID != "" {
		w.byMember[c.MemberID] = c
	}
	if c.Phone != "" {
		w.byPhone[c.Phone] = c
	}
	if c.Email != "" {
		w.byEmail[c.Email] = c
	}
	for _, si := range c.Social {
		w.bySocial[si] = c
	}
}

func (w *batch) unindex(c *contact.Contact) {
	for m, v := range map[*map[string]*contact.Contact]string{&w.byMember: c.MemberID, &w.byPhone: c.Phone, &w.byEmail: c.Email} {
		if v != "" && (*m)[v] == c {
			delete(*m, v)
		}
	}
	for _, si := range c.Social {
		if w.bySocial[si] == c {
			delete(w.bySocial, si)
		}
	}
}

func (w *batch) decide(in contact.Input, mode writeMode, key string) UpsertResult {
	var target *contact.Contact
	switch mode {
	case writeUpdate:
		target = w.byID[key]
		if target == nil {
			return UpsertResult{Outcome: OutcomeFailed, Err: ErrNotFound}
		}
	case writeUpsert:
		var v Opt
		var idx map[string]*contact.Contact
		switch contact.Identity(key) {
		case contact.IdentityMemberID:
			v, idx = Opt(in.MemberID), w.byMember
		case contact.IdentityPhone:
			v, idx = Opt(in.Phone), w.byPhone
		case contact.IdentityEmail:
			v, idx = Opt(in.Email), w.byEmail
		}
		if !v.Set || v.Null {
			return UpsertResult{Outcome: OutcomeFailed, Err: contact.FieldErrors{{Field: key, Reason: "is required to match contacts (match_by=" + key + ")"}}}
		}
		target = idx[v.Value]
	}

	var next contact.Contact
	if target != nil {
		next = cloneContact(*target)
	} else {
		next = contact.Contact{ID: NewID("c_"), TenantID: w.tenantID, Tags: []string{}, Custom: map[string]any{}, Social: []contact.SocialIdentity{}, Created: w.now, Version: 0}
	}
	replaceSocial := mode == writeUpdate
	applyInput(&next, in, replaceSocial)

	// Unique values must not belong to another contact.
	owner := func(c *contact.Contact) bool { return c != nil && (target == nil || c.ID != target.ID) }
	if c := w.byMember[next.MemberID]; next.MemberID != "" && owner(c) {
		return conflict("member_id", next.MemberID, c)
	}
	if c := w.byPhone[next.Phone]; next.Phone != "" && owner(c) {
		return conflict("phone", next.Phone, c)
	}
	if c := w.byEmail[next.Email]; next.Email != "" && owner(c) {
		return conflict("email", next.Email, c)
	}
	for i, si := range next.Social {
		if c := w.bySocial[si]; owner(c) {
			return conflict(fmt.Sprintf("social_identities[%d]", i), si.ChannelType+":"+si.UserID, c)
		}
	}

	if target == nil {
		next.Version = 1
		next.Updated = w.now
		c := &next
		w.created = append(w.created, c)
		w.written[c] = true
		w.index(c)
		w.byID[c.ID] = c
		w.outbox = append(w.outbox, OutboxEntry{ContactID: c.ID, Op: OpCreate, ChangedFields: createdFields(c)})
		for _, si := range c.Social {
			w.socialAdd = append(w.socialAdd, socialRow{c.ID, si})
		}
		return UpsertResult{Outcome: OutcomeCreated, Contact: cloneContact(*c)}
	}
	changed := changedFields(*target, next)
	if len(changed) == 0 {
		return UpsertResult{Outcome: OutcomeUnchanged, Contact: cloneContact(*target)}
	}
	added, removed := socialDiff(target.Social, next.Social)
	next.Version = target.Version + 1
	next.Updated = w.now
	if next.MemberID != target.MemberID || next.Phone != target.Phone || next.Email != target.Email {
		w.movesUnique = true
	}
	w.unindex(target)
	*target = next
	w.index(target)
	// A set, not a search of the lists: a batch of 10,000 updates searched
	// them 10,000 times.
	if !w.written[target] {
		w.written[target] = true
		w.updated = append(w.updated, target)
	}
	for _, si := range added {
		w.socialAdd = append(w.socialAdd, socialRow{target.ID, si})
	}
	for _, si := range removed {
		w.socialDel = append(w.socialDel, socialRow{target.ID, si})
	}
	if scalar := slices.DeleteFunc(slices.Clone(changed), func(f string) bool { return f == "social_identities" }); len(scalar) > 0 {
		w.outbox = append(w.outbox, OutboxEntry{ContactID: target.ID, Op: OpUpdate, ChangedFields: scalar})
	}
	for _, si := range added {
		si := si
		w.outbox = append(w.outbox, OutboxEntry{ContactID: target.ID, Op: OpSocialAdded, ChangedFields: []string{"social_identities"}, Social: &si})
	}
	for _, si := range removed {
		si := si
		w.outbox = append(w.outbox, OutboxEntry{ContactID: target.ID, Op: OpSocialRemoved, ChangedFields: []string{"social_identities"}, Social: &si})
	}
	return UpsertResult{Outcome: OutcomeUpdated, Contact: cloneContact(*target)}
}

// Opt is contact.Opt[string], shortened for the match switch above.
type Opt = contact.Opt[string]

func conflict(field, value string, c *contact.Contact) UpsertResult {
	return UpsertResult{Outcome: OutcomeFailed, Err: &ContactConflict{Field: field, Value: value, ContactID: c.ID}}
}

func cloneContact(c contact.Contact) contact.Contact {
	c.Tags = slices.Clone(c.Tags)
	c.Custom = maps.Clone(c.Custom)
	c.Social = slices.Clone(c.Social)
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Custom == nil {
		c.Custom = map[string]any{}
	}
	if c.Social == nil {
		c.Social = []contact.SocialIdentity{}
	}
	return c
}

func setStr(dst *string, o contact.Opt[string]) {
	if o.Set {
		if o.Null {
			*dst = ""
		} else {
			*dst = o.Value
		}
	}
}

// applyInput writes the present fields of in onto c.
func applyInput(c *contact.Contact, in contact.Input, replaceSocial bool) {
	setStr(&c.MemberID, in.MemberID)
	setStr(&c.Name, in.Name)
	setStr(&c.Phone, in.Phone)
	setStr(&c.Email, in.Email)
	setStr(&c.Birthday, in.Birthday)
	var g string
	if in.Gender.Set {
		setStr(&g, in.Gender)
		c.Gender = contact.Gender(g)
	}
	if in.Tags.Set {
		c.Tags = slices.Clone(in.Tags.Value)
		if c.Tags == nil {
			c.Tags = []string{}
		}
	}
	for k, v := range in.Custom {
		if v.Null {
			delete(c.Custom, k)
		} else {
			c.Custom[k] = v.Value
		}
	}
	if in.Social.Set {
		if replaceSocial {
			c.Social = slices.Clone(in.Social.Value)
			if c.Social == nil {
				c.Social = []contact.SocialIdentity{}
			}
		} else {
			for _, si := range in.Social.Value {
				if !slices.Contains(c.Social, si) {
					c.Social = append(c.Social, si)
				}
			}
		}
	}
}

// changedFields lists the fields that differ between a and b.
func changedFields(a, b contact.Contact) []string {
	var out []string
	for _, f := range []struct {
		name string
		x, y string
	}{{"member_id", a.MemberID, b.MemberID}, {"name", a.Name, b.Name}, {"phone", a.Phone, b.Phone}, {"email", a.Email, b.Email},
		{"birthday", a.Birthday, b.Birthday}, {"gender", string(a.Gender), string(b.Gender)}} {
		if f.x != f.y {
			out = append(out, f.name)
		}
	}
	if !slices.Equal(a.Tags, b.Tags) && !(len(a.Tags) == 0 && len(b.Tags) == 0) {
		out = append(out, "tags")
	}
	keys := map[string]bool{}
	for k := range a.Custom {
		keys[k] = true
	}
	for k := range b.Custom {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !reflect.DeepEqual(a.Custom[k], b.Custom[k]) {
			out = append(out, "custom_fields."+k)
		}
	}
	if added, removed := socialDiff(a.Social, b.Social); len(added)+len(removed) > 0 {
		out = append(out, "social_identities")
	}
	return out
}

// createdFields is changedFields(contact.Contact{}, *c), the fields a new
// contact sets, without comparing it field by field with an empty one (a
// sixth of the writer's decisions in a bulk import, issue 14).
func createdFields(c *contact.Contact) []string {
	out := make([]string, 0, 8)
	for _, f := range [...]struct {
		name, v string
	}{{"member_id", c.MemberID}, {"name", c.Name}, {"phone", c.Phone}, {"email", c.Email}, {"birthday", c.Birthday}, {"gender", string(c.Gender)}} {
		if f.v != "" {
			out = append(out, f.name)
		}
	}
	if len(c.Tags) > 0 {
		out = append(out, "tags")
	}
	if len(c.Custom) > 0 {
		for _, k := range slices.Sorted(maps.Keys(c.Custom)) {
			if c.Custom[k] != nil { // reflect.DeepEqual(nil, v) in changedFields
				out = append(out, "custom_fields."+k)
			}
		}
	}
	if len(c.Social) > 0 {
		out = append(out, "social_identities")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func socialDiff(old, next []contact.SocialIdentity) (added, removed []contact.SocialIdentity) {
	for _, si := range next {
		if !slices.Contains(old, si) {
			added = append(added, si)
		}
	}
	for _, si := range old {
		if !slices.Contains(next, si) {
			removed = append(removed, si)
		}
	}
	return added, removed
}

func (w *batch) flush(ctx context.Context) error {
	// Social identities removed first, so one moved within the batch can
	// be inserted again.
	for _, r := range w.socialDel {
		if _, err := w.tx.ExecContext(ctx, `DELETE FROM social_identities WHERE tenant_id = $1 AND contact_id = $2 AND channel_type = $3 AND channel_id = $4 AND user_id = $5`,
			w.tenantID, r.contactID, r.si.ChannelType, r.si.ChannelID, r.si.UserID); err != nil {
			return mapErr(err)
		}
	}
	// Updated contacts: clear their unique values first, so that values
	// swapped between contacts inside one batch don't collide mid-way.
	// Where no update changes a unique value, no row can collide: the
	// clearing would only write every row and its index entries twice
	// (the push stream's batches of name changes, issue 14).
	if len(w.updated) > 1 && w.movesUnique {
		for chunk := range slices.Chunk(w.updated, 500) {
			args := []any{w.tenantID}
			for _, c := range chunk {
				args = append(args, c.ID)
			}
			cond, args := w.s.in("id", args, 2)
			if _, err := w.tx.ExecContext(ctx, w.s.updateVerb()+` contacts SET member_id = NULL, phone = NULL, email = NULL WHERE tenant_id = $1 AND `+cond, args...); err != nil {
				return mapErr(err)
			}
		}
	}
	if w.s.Dialect == Postgres && len(w.updated) > 0 && len(w.created)+len(w.socialAdd)+len(w.socialDel) == 0 && !w.movesUnique {
		// A batch of updates alone, the API's combined PATCHes: the
		// updates and their outbox rows in one statement.
		return w.flushUpdatesWithOutboxPostgres(ctx)
	}
	if w.s.Dialect == Postgres && len(w.updated) > 1 {
		if err := w.flushUpdatedPostgres(ctx); err != nil {
			return err
		}
	} else {
		for _, c := range w.updated {
			tags, custom := mustJSON(c.Tags), mustJSON(c.Custom)
			if _, err := w.tx.ExecContext(ctx, w.s.updateVerb()+` contacts SET member_id = $3, name = $4, phone = $5, email = $6, birthday = $7, gender = $8,
			tags = $9, custom = $10, updated_at = $11, version = $12 WHERE tenant_id = $1 AND id = $2`,
				w.tenantID, c.ID, nullString(c.MemberID), nullString(c.Name), nullString(c.Phone), nullString(c.Email), nullString(c.Birthday),
				nullString(string(c.Gender)), tags, custom, micros(c.Updated), c.Version); err != nil {
				return mapErr(err)
			}
		}
	}
	if w.s.Dialect == Postgres {
		return w.flushCreatedPostgres(ctx)
	}
	const perContact = 13
	for chunk := range stmtChunks(w.created, 400) {
		args := make([]any, 0, len(chunk)*perContact)
		for _, c := range chunk {
			args = append(args, w.tenantID, c.ID, nullString(c.MemberID), nullString(c.Name), nullString(c.Phone), nullString(c.Email),
				nullString(c.Birthday), nullString(string(c.Gender)), mustJSON(c.Tags), mustJSON(c.Custom), micros(c.Created), micros(c.Updated), c.Version)
		}
		vals, args := sharedValues(perContact, args)
		if _, err := w.tx.ExecContext(ctx, w.s.insertInto()+` contacts (tenant_id, id, member_id, name, phone, email, birthday, gender, tags, custom, created_at, updated_at, version)
			VALUES `+vals, args...); err != nil {
			return mapErr(err)
		}
	}
	const perSocial = 6
	for chunk := range stmtChunks(w.socialAdd, 500) {
		args := make([]any, 0, len(chunk)*perSocial)
		for _, r := range chunk {
			args = append(args, w.tenantID, r.contactID, r.si.ChannelType, r.si.ChannelID, r.si.UserID, micros(w.now))
		}
		vals, args := sharedValues(perSocial, args)
		if _, err := w.tx.ExecContext(ctx, w.s.insertInto()+` social_identities (tenant_id, contact_id, channel_type, channel_id, user_id, created_at) VALUES `+vals, args...); err != nil {
			return mapErr(err)
		}
	}
	for i := range w.outbox {
		w.outbox[i].TenantID = w.tenantID
		w.outbox[i].Origin = w.origin
	}
	return w.s.insertOutbox(ctx, w.tx, w.outbox)
}

func mustJSON(v any) string {
	// What every new contact and outbox row holds (an empty tag list, no
	// custom field, a list of field names) is written without the
	// encoder, which a bulk import of 10,000 contacts ran 30,000 times
	// (issue 14).
	switch x := v.(type) {
	case []string:
		if out, ok := plainStrings(x); ok {
			return out
		}
	case map[string]any:
		if x != nil && len(x) == 0 {
			return "{}"
		}
	}
	// Without HTML escaping: a mapping key's '>' is one byte, not six
	// (\u003e), in every link row (issue 14).
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("store: marshal %T: %v", v, err))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// plainStrings is mustJSON's encoder's output for a non-nil list of
// strings it writes unchanged between quotes (appendPlainString), such
// as field names.
func plainStrings(list []string) (string, bool) {
	if list == nil {
		return "", false
	}
	b := append(make([]byte, 0, 64), '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendPlainString(b, s); !ok {
			return "", false
		}
	}
	return string(append(b, ']')), true
}

// InsertOutboxTx records outbox entries inside a transaction (the engine
// asks for a push this way).
func (s *Store) InsertOutboxTx(ctx context.Context, tx *sql.Tx, entries []OutboxEntry) error {
	return s.insertOutbox(ctx, tx, entries)
}

// outboxArrays are outbox rows as PostgreSQL arrays, a column each.
type outboxArrays struct {
	tenant, contact, op, fields, detail, origin []string
}

// columns returns the entry's changed_fields and detail columns as
// stored (JSON; an empty list and object when it has none).
func (e OutboxEntry) columns() (fields, detail string) {
	list := e.ChangedFields
	if list == nil {
		list = []string{}
	}
	detail = "{}"
	if e.Social != nil {
		detail = mustJSON(map[string]any{"social": e.Social})
	}
	return mustJSON(list), detail
}

// outboxArraysOf returns the rows to insert for entries: none (false) for
// the sync's own writes (origin salesforce), which need no push.
func outboxArraysOf(entries []OutboxEntry) (outboxArrays, bool) {
	if slices.ContainsFunc(entries, func(e OutboxEntry) bool { return e.Origin == contact.OriginSalesforce }) {
		entries = slices.DeleteFunc(slices.Clone(entries), func(e OutboxEntry) bool { return e.Origin == contact.OriginSalesforce })
	}
	n := len(entries)
	if n == 0 {
		return outboxArrays{}, false
	}
	a := outboxArrays{make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)}
	for i, e := range entries {
		fields, detail := e.columns()
		a.tenant[i], a.contact[i], a.op[i], a.fields[i], a.detail[i], a.origin[i] = e.TenantID, e.ContactID, e.Op, fields, detail, string(e.Origin)
	}
	return a, true
}

// outboxInsertPostgres is the statement inserting entries on PostgreSQL
// (one INSERT … SELECT FROM unnest(arrays)); none (false) when no entry
// needs a row.
func (s *Store) outboxInsertPostgres(entries []OutboxEntry) (pgStmt, bool) {
	ob, ok := outboxArraysOf(entries)
	if !ok {
		return pgStmt{}, false
	}
	return pgStmt{`INSERT INTO outbox (tenant_id, contact_id, op, changed_fields, detail, origin, created_at)
			SELECT *, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
		[]any{ob.tenant, ob.contact, ob.op, ob.fields, ob.detail, ob.origin, micros(s.Now())}}, true
}

func (s *Store) insertOutbox(ctx context.Context, tx *sql.Tx, entries []OutboxEntry) error {
	const per = 7
	now := micros(s.Now())
	// The sync's own writes (origin salesforce) need no push: the push
	// only deleted their rows again. A first sync wrote one row (and two
	// index entries) per contact for nothing (issue 14).
	if slices.ContainsFunc(entries, func(e OutboxEntry) bool { return e.Origin == contact.OriginSalesforce }) {
		entries = slices.DeleteFunc(slices.Clone(entries), func(e OutboxEntry) bool { return e.Origin == contact.OriginSalesforce })
	}
	if s.Dialect == Postgres {
		st, ok := s.outboxInsertPostgres(entries)
		if !ok {
			return nil
		}
		_, err := tx.ExecContext(ctx, st.q, st.args...)
		return mapErr(err)
	}
	for chunk := range stmtChunks(entries, 500) {
		args := make([]any, 0, len(chunk)*per)
		for _, e := range chunk {
			fields, detail := e.columns()
			args = append(args, e.TenantID, e.ContactID, e.Op, fields, detail, string(e.Origin), now)
		}
		vals, args := sharedValues(per, args)
		if _, err := tx.ExecContext(ctx, s.insertInto()+` outbox (tenant_id, contact_id, op, changed_fields, detail, origin, created_at) VALUES `+vals, args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// ListOutbox returns a tenant's outbox entries with ID > after, oldest first.
func (s *Store) ListOutbox(ctx context.Context, tenantID string, after int64, limit int) ([]OutboxEntry, error) {
	return s.listOutbox(ctx, `WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, tenantID, after, limit)
}

// DueOutbox returns a tenant's outbox entries due for pushing at now
// (new ones, and failed ones whose retry time has come), oldest first.
func (s *Store) DueOutbox(ctx context.Context, tenantID string, now time.Time, limit int) ([]OutboxEntry, error) {
	return s.listOutbox(ctx, `WHERE tenant_id = $1 AND next_attempt_at <= $2 ORDER BY id LIMIT $3`, tenantID, micros(now), limit)
}

// CountOutbox returns how many outbox entries a tenant has waiting.
func (s *Store) CountOutbox(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	err := s.db().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1`, tenantID).Scan(&n)
	return n, mapErr(err)
}

// AckOutboxTx deletes outbox entries that Salesforce acknowledged (or that
// need no push), inside a transaction.
func (s *Store) AckOutboxTx(ctx context.Context, tx *sql.Tx, tenantID string, ids []int64) error {
	for chunk := range slices.Chunk(ids, 500) {
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("id", args, 2)
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE tenant_id = $1 AND `+cond, args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// FailOutboxTx records a failed push of entries: attempts+1, the error,
// and the next attempt's time from next(attempts).
func (s *Store) FailOutboxTx(ctx context.Context, tx *sql.Tx, tenantID string, failed map[int64]string, next func(attempts int) time.Time) error {
	for id, reason := range failed {
		var attempts int
		if err := tx.QueryRowContext(ctx, `SELECT attempts FROM outbox WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&attempts); err != nil {
			if err == sql.ErrNoRows {
				continue
			}
			return mapErr(err)
		}
		attempts++
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = $3, next_attempt_at = $4, last_error = $5 WHERE tenant_id = $1 AND id = $2`,
			tenantID, id, attempts, micros(next(attempts)), reason); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// RetryOutboxNow makes waiting outbox entries of a tenant due now: those
// of the given contacts, or all when none are given.
func (s *Store) RetryOutboxNow(ctx context.Context, tenantID string, contactIDs ...string) error {
	if len(contactIDs) == 0 {
		_, err := s.db().ExecContext(ctx, `UPDATE outbox SET next_attempt_at = 0 WHERE tenant_id = $1`, tenantID)
		return mapErr(err)
	}
	return s.updateIn(ctx, `UPDATE outbox SET next_attempt_at = 0 WHERE tenant_id = $1 AND `, "contact_id", tenantID, contactIDs)
}

func (s *Store) listOutbox(ctx context.Context, where string, args ...any) ([]OutboxEntry, error) {
	tenantID := args[0].(string)
	rows, err := s.db().QueryContext(ctx, `SELECT id, contact_id, op, changed_fields, detail, origin, created_at, attempts, last_error FROM outbox `+where, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		e := OutboxEntry{TenantID: tenantID}
		var fields, detail, origin string
		var created int64
		if err := rows.Scan(&e.ID, &e.ContactID, &e.Op, &fields, &detail, &origin, &created, &e.Attempts, &e.LastError); err != nil {
			return nil, err
		}
		e.Origin, e.Created = contact.Origin(origin), fromMicros(created)
		if err := json.Unmarshal([]byte(fields), &e.ChangedFields); err != nil {
			return nil, err
		}
		var d struct {
			Social *contact.SocialIdentity `json:"social"`
		}
		if err := json.Unmarshal([]byte(detail), &d); err != nil {
			return nil, err
		}
		e.Social = d.Social
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// GetContacts returns the contacts with the given IDs (with their social
// identities), by ID; missing IDs are absent from the map.
func (s *Store) GetContacts(ctx context.Context, tenantID string, ids []string) (map[string]contact.Contact, error) {
	out := make(map[string]contact.Contact, len(ids))
	var list []*contact.Contact
	err := s.eachByKeys(ctx, tenantID, ids, contactCols, "contacts", "id", func(rows *sql.Rows) error {
		c, err := scanContact(rows, tenantID)
		list = append(list, &c)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.loadSocial(ctx, s.db(), tenantID, list); err != nil {
		return nil, err
	}
	for _, c := range list {
		out[c.ID] = *c
	}
	return out, nil
}

// ph is placeholders for this store's dialect: SQLite gets anonymous "?",
// because it treats "$N" as a named parameter and looks each one up in a
// linear list, which makes a 5,000-parameter statement quadratic. Every
// caller binds its arguments in placeholder order after the leading $1.
func (s *Store) ph(from, n int) string {
	if s.Dialect == SQLite {
		return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
	}
	return placeholders(from, n)
}

func anyStrings(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.(string)
	}
	return out
}

// contactArrays are contacts' columns as arrays, for PostgreSQL's
// unnest: an empty text column is NULL.
type contactArrays struct {
	ids, tags, custom                        []string
	member, name, phone, email, bday, gender []*string
	created, updated, version                []int64
}

func contactArraysOf(cs []*contact.Contact) contactArrays {
	n := len(cs)
	a := contactArrays{ids: make([]string, n), tags: make([]string, n), custom: make([]string, n),
		member: make([]*string, n), name: make([]*string, n), phone: make([]*string, n), email: make([]*string, n), bday: make([]*string, n), gender: make([]*string, n),
		created: make([]int64, n), updated: make([]int64, n), version: make([]int64, n)}
	ptr := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for i, c := range cs {
		a.ids[i], a.tags[i], a.custom[i] = c.ID, mustJSON(c.Tags), mustJSON(c.Custom)
		a.member[i], a.name[i], a.phone[i], a.email[i], a.bday[i], a.gender[i] = ptr(c.MemberID), ptr(c.Name), ptr(c.Phone), ptr(c.Email), ptr(c.Birthday), ptr(string(c.Gender))
		a.created[i], a.updated[i], a.version[i] = micros(c.Created), micros(c.Updated), c.Version
	}
	return a
}

// flushUpdatedPostgres writes the batch's updated contacts in one
// statement: a statement each was a round trip each, which a batch of
// combined API updates (combine.go) or a bulk upsert paid per contact
// while it held the tenant's lock (50 updates: about 6 ms of a batch's
// 10–17 ms before the commit's flush, on a busy two-core machine). Their
// unique values were cleared first, or none moves (flush), so the order
// the rows are written in cannot collide.
func (w *batch) flushUpdatedPostgres(ctx context.Context) error {
	a := contactArraysOf(w.updated)
	_, err := w.tx.ExecContext(ctx, `UPDATE contacts AS c SET `+updateFromX+`
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[])
			AS x(id, member_id, name, phone, email, birthday, gender, tags, custom, updated_at, version)
		WHERE c.tenant_id = $1 AND c.id = x.id`,
		w.tenantID, a.ids, a.member, a.name, a.phone, a.email, a.bday, a.gender, a.tags, a.custom, a.updated, a.version)
	return mapErr(err)
}

const updateFromX = `member_id = x.member_id, name = x.name, phone = x.phone, email = x.email,
		birthday = x.birthday, gender = x.gender, tags = x.tags, custom = x.custom, updated_at = x.updated_at, version = x.version`

// flushUpdatesWithOutboxPostgres writes a batch of updates only (no new
// contact, no social identity added or removed, no unique value moved)
// and their outbox rows in one statement, the UPDATE in a WITH clause
// (PostgreSQL runs a data-modifying WITH to completion whether or not the
// main statement reads it): one round trip fewer while the batch holds
// the tenant's lock, in every transaction of the API's combined PATCHes
// (issue 14).
func (w *batch) flushUpdatesWithOutboxPostgres(ctx context.Context) error {
	for i := range w.outbox {
		w.outbox[i].TenantID = w.tenantID
		w.outbox[i].Origin = w.origin
	}
	ob, ok := outboxArraysOf(w.outbox)
	if !ok {
		return w.flushUpdatedPostgres(ctx) // nothing to record (the sync's own writes)
	}
	a := contactArraysOf(w.updated)
	_, err := w.tx.ExecContext(ctx, `WITH u AS (UPDATE contacts AS c SET `+updateFromX+`
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[])
			AS x(id, member_id, name, phone, email, birthday, gender, tags, custom, updated_at, version)
		WHERE c.tenant_id = $1 AND c.id = x.id)
		INSERT INTO outbox (tenant_id, contact_id, op, changed_fields, detail, origin, created_at)
		SELECT *, $19 FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])`,
		w.tenantID, a.ids, a.member, a.name, a.phone, a.email, a.bday, a.gender, a.tags, a.custom, a.updated, a.version,
		ob.tenant, ob.contact, ob.op, ob.fields, ob.detail, ob.origin, micros(w.s.Now()))
	return mapErr(err)
}

// flushCreatedPostgres inserts the batch's new contacts, social identities
// and outbox rows with one INSERT … SELECT FROM unnest(arrays) per table.
func (w *batch) flushCreatedPostgres(ctx context.Context) error {
	// No row inserted here fires a foreign-key check (migrations 00037
	// and 00038), so they need no switch to plan_cache_mode auto
	// (autoPlans); the statements go to the server as one batch, one round
	// trip (execBatch).
	var stmts []pgStmt
	if len(w.created) > 0 {
		a := contactArraysOf(w.created)
		stmts = append(stmts, pgStmt{`INSERT INTO contacts (tenant_id, id, member_id, name, phone, email, birthday, gender, tags, custom, created_at, updated_at, version)
			SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[])`,
			[]any{w.tenantID, a.ids, a.member, a.name, a.phone, a.email, a.bday, a.gender, a.tags, a.custom, a.created, a.updated, a.version}})
	}
	if n := len(w.socialAdd); n > 0 {
		cid, ct, ch, uid := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, r := range w.socialAdd {
			cid[i], ct[i], ch[i], uid[i] = r.contactID, r.si.ChannelType, r.si.ChannelID, r.si.UserID
		}
		stmts = append(stmts, pgStmt{`INSERT INTO social_identities (tenant_id, contact_id, channel_type, channel_id, user_id, created_at)
			SELECT $1, c, t, h, u, $6 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS x(c, t, h, u)`,
			[]any{w.tenantID, cid, ct, ch, uid, micros(w.now)}})
	}
	for i := range w.outbox {
		w.outbox[i].TenantID = w.tenantID
		w.outbox[i].Origin = w.origin
	}
	if st, ok := w.s.outboxInsertPostgres(w.outbox); ok {
		stmts = append(stmts, st)
	}
	return w.s.execBatch(ctx, w.tx, stmts...)
}

// sharedValues returns the VALUES list of a multi-row INSERT on SQLite for
// args, rows of width values one after another, and the arguments to bind
// with it. A column holding the same value in every row (the tenant, the
// batch's time, an empty tag list, the channel of every identity) is one
// parameter the rows share; the others are one parameter each. Every
// parameter is anonymous ("?", numbered in order) except a shared one
// after the first row, which names its number ("?1"): SQLite keeps a list
// of the named parameters that the driver searches for every parameter it
// binds, so it stays as short as the row. Binding was a fifth of a
// contact batch's write time in the driver (each argument copied into C
// memory under SQLite's mutex), 26 arguments per contact imported with an
// identity; shared, 8 (issue 14).
func sharedValues(width int, args []any) (string, []any) {
	rows := len(args) / width
	shared := make([]bool, width)
	for col := range width {
		v := args[col]
		switch v.(type) {
		case string, int64, sql.NullString, nil:
		default:
			continue
		}
		shared[col] = true
		for r := 1; r < rows; r++ {
			if args[r*width+col] != v {
				shared[col] = false
				break
			}
		}
	}
	num := make([]int, width)
	out := make([]any, 0, len(args))
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for col := range width {
			if col > 0 {
				b.WriteString(", ")
			}
			if shared[col] && r > 0 {
				b.WriteByte('?')
				b.WriteString(strconv.Itoa(num[col]))
				continue
			}
			out = append(out, args[r*width+col])
			num[col] = len(out)
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	return b.String(), out
}
