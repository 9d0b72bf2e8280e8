package main

import (
	"fmt"
	"os"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The worker versioning settings (docs/upgrades.md): a worker started with
// both takes part in Temporal's worker deployment versioning as version
// <deployment>.<build id>; plans are auto-upgrade workflows (they move to
// the current version at their next workflow task, which replay-compatible
// code and workflow.GetVersion make safe). Without them the worker polls
// unversioned, as `make run` does.
const (
	envDeploymentName = "FENQI_DEPLOYMENT_NAME"
	envBuildID        = "FENQI_BUILD_ID"
)

// deploymentOptions reads the worker versioning settings: zero options
// when neither is set, an error naming the missing one when only one is.
func deploymentOptions() (worker.DeploymentOptions, error) {
	name, build := os.Getenv(envDeploymentName), os.Getenv(envBuildID)
	switch {
	case name == "" && build == "":
		return worker.DeploymentOptions{}, nil
	case name == "":
		return worker.DeploymentOptions{}, fmt.Errorf("%s is set but %s is not: set both for worker versioning, or neither", envBuildID, envDeploymentName)
	case build == "":
		return worker.DeploymentOptions{}, fmt.Errorf("%s is set but %s is not: set both for worker versioning, or neither", envDeploymentName, envBuildID)
	}
	return worker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   worker.WorkerDeploymentVersion{DeploymentName: name, BuildID: build},
		DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
	}, nil
}
