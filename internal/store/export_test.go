package store

// DueForPushQuery is exported to the plan test.
const DueForPushQuery = dueForPushQuery
