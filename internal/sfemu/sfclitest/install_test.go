package sfclitest

import (
	"github.com/sfsync/sfsync/internal/testenv/nodetest"
	"testing"
	"time"
)

// minNode is the oldest Node the pinned CLI's dependency tree supports
// (several of its npm packages declare ^20.17.0).
var minNode = [2]int{20, 17}

// sfBin is the CLI that npm ci installs, relative to this package.
const sfBin = "node_modules/.bin/sf"

// requireCLI makes sure node and the locked CLI are there
// (nodetest.Require: a loud skip without Node or with one too old, a
// failure on CI).
func requireCLI(t *testing.T) {
	t.Helper()
	nodetest.Require(t, nodetest.Options{What: "the sf CLI interoperability test", MinNode: minNode, Timeout: 5 * time.Minute, Leaves: sfBin})
}
