package store

// DueForPushQuery is exported to the plan test.
const DueForPushQuery = dueForPushQuery

// ProbeQuery is exported to the look-up plan test.
var ProbeQuery = probeQuery
