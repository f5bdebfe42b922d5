// Package mlog stands in for monis.app/mlog, which the Go module proxy refuses to serve (403) while
// every secrets-store-csi-driver version requires it. It provides exactly what the driver v1.5.4
// calls (Setup, FormatText/FormatJSON, ValidateAndSetKlogLevelAndFormatGlobally, Error, Fatal), on
// klog, which the driver configures through its own flags (-v).
package mlog

import (
	"context"
	"fmt"
	"os"

	"k8s.io/klog/v2"
)

// LogFormat names a log output format.
type LogFormat string

const (
	FormatText LogFormat = "text"
	FormatJSON LogFormat = "json"
)

// Setup returns the function to run before exit: flush what klog buffered.
func Setup() func() {
	return klog.Flush
}

// ValidateAndSetKlogLevelAndFormatGlobally accepts the level the driver read back from klog's -v
// flag. Only text output exists here: JSON needs component-base's logging backends, which the
// driver's log lines do not need in the test cluster, so it is refused by name.
func ValidateAndSetKlogLevelAndFormatGlobally(_ context.Context, level klog.Level, format LogFormat) error {
	if level < 0 {
		return fmt.Errorf("log level %d is negative: pass -v=0 or higher", level)
	}
	if format != FormatText {
		return fmt.Errorf("log format %q is not supported by this mlog stand-in: run without --log-format-json", format)
	}
	return nil
}

// Error logs err with a message and key/value pairs.
func Error(msg string, err error, keysAndValues ...any) {
	klog.ErrorS(err, msg, keysAndValues...)
}

// Fatal logs err, flushes and exits with status 1.
func Fatal(err error, keysAndValues ...any) {
	klog.ErrorS(err, "fatal error", keysAndValues...)
	klog.Flush()
	os.Exit(1)
}
