package sfemu

import "time"

type cursor struct {
	id       string
	recs     []*record
	lastUsed time.Time
}

type bulkJob struct {
	id string
}

type authCode struct {
	code string
}

type loginSession struct {
	userID string
}

type call struct {
	org *Org
}
