package workflows

// VersionChangeID is the change id the plan workflow's versions are
// recorded under (workflow.GetVersion), and LatestVersion the newest:
// for tools and tests that read histories.
const (
	VersionChangeID = workflowVersion
	LatestVersion   = versionLocalWrites
)
