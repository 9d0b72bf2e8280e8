package main

import (
	"strings"
	"testing"

	"go.temporal.io/sdk/workflow"
)

func TestDeploymentOptions(t *testing.T) {
	for _, tc := range []struct {
		name, deployment, build string
		versioned               bool
		err                     string
	}{
		{"unversioned", "", "", false, ""},
		{"versioned", "fenqi", "2026.11.22-a0de967", true, ""},
		{"build id only", "", "b1", false, envDeploymentName},
		{"deployment only", "fenqi", "", false, envBuildID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envDeploymentName, tc.deployment)
			t.Setenv(envBuildID, tc.build)
			opts, err := deploymentOptions()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err+" is not") {
					t.Fatalf("error %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.UseVersioning != tc.versioned {
				t.Fatalf("versioning %v, want %v", opts.UseVersioning, tc.versioned)
			}
			if tc.versioned && (opts.Version.DeploymentName != tc.deployment || opts.Version.BuildID != tc.build ||
				opts.DefaultVersioningBehavior != workflow.VersioningBehaviorAutoUpgrade) {
				t.Fatalf("options %+v", opts)
			}
		})
	}
}
