package store

// DueForPushQuery is exported to the plan test.
const DueForPushQuery = dueForPushQuery

// ProbeQuery is exported to the look-up plan test.
var ProbeQuery = probeQuery

// RoundTrips is what a PostgreSQL Store has sent to the server, about one
// round trip each (statements, batches, copies; see roundTrips).
func (s *Store) RoundTrips() int64 { return s.trips.n.Load() }

// StmtParses is how many statements the SQLite connections have prepared.
func StmtParses() int64 { return stmtParses.Load() }

// SharedValues is exported to the write ceiling, which builds its SQLite
// inserts as the store does.
var SharedValues = sharedValues
