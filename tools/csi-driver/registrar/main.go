// Command registrar announces a CSI driver to the kubelet through the plugin-registration API
// (k8s.io/kubelet/pkg/apis/pluginregistration/v1), the job node-driver-registrar does upstream; that
// project is not served by the Go module proxy. It asks the driver for its name (CSI GetPluginInfo),
// serves GetInfo and NotifyRegistrationStatus on <plugin-registration-path>/<name>-reg.sock, and
// exits non-zero when the kubelet reports that registration failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"k8s.io/klog/v2"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

type registrationServer struct {
	driverName string
	endpoint   string
	failed     chan<- string
}

func (s *registrationServer) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	klog.InfoS("kubelet asked for plugin info", "driver", s.driverName, "endpoint", s.endpoint)
	return &registerapi.PluginInfo{
		Type:              registerapi.CSIPlugin,
		Name:              s.driverName,
		Endpoint:          s.endpoint,
		SupportedVersions: []string{"1.0.0"},
	}, nil
}

func (s *registrationServer) NotifyRegistrationStatus(_ context.Context, status *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if status.PluginRegistered {
		klog.InfoS("kubelet registered the driver", "driver", s.driverName)
	} else {
		s.failed <- status.Error
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}

// driverName asks the CSI driver for its name, retrying until it answers or the deadline passes
// (the driver may start after the registrar).
func driverName(ctx context.Context, csiAddress string) (string, error) {
	// grpc v1.56 (the driver's version) has no NewClient; Dial does not block without WithBlock.
	conn, err := grpc.Dial("unix://"+csiAddress, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", fmt.Errorf("dial CSI driver at %s: %w", csiAddress, err)
	}
	defer conn.Close()
	identity := csi.NewIdentityClient(conn)
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		info, err := identity.GetPluginInfo(callCtx, &csi.GetPluginInfoRequest{})
		cancel()
		if err == nil {
			if info.GetName() == "" {
				return "", errors.New("the CSI driver answered GetPluginInfo with an empty name")
			}
			return info.GetName(), nil
		}
		klog.InfoS("waiting for the CSI driver", "address", csiAddress, "err", err)
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the CSI driver at %s did not answer GetPluginInfo: %w", csiAddress, err)
		case <-time.After(time.Second):
		}
	}
}

func run() error {
	csiAddress := flag.String("csi-address", "", "path of the CSI driver's unix socket, as this process sees it")
	kubeletPath := flag.String("kubelet-registration-path", "", "path of the CSI driver's unix socket, as the kubelet sees it (defaults to --csi-address)")
	registrationDir := flag.String("plugin-registration-path", "/var/lib/kubelet/plugins_registry", "the kubelet's plugin registration directory")
	timeout := flag.Duration("timeout", 2*time.Minute, "how long to wait for the CSI driver to answer")
	klog.InitFlags(nil)
	flag.Parse()
	if *csiAddress == "" {
		return errors.New("--csi-address is required: the CSI driver's unix socket path")
	}
	if *kubeletPath == "" {
		*kubeletPath = *csiAddress
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	waitCtx, cancel := context.WithTimeout(ctx, *timeout)
	name, err := driverName(waitCtx, *csiAddress)
	cancel()
	if err != nil {
		return err
	}

	socket := filepath.Join(*registrationDir, name+"-reg.sock")
	if err := os.MkdirAll(*registrationDir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", *registrationDir, err)
	}
	// A socket left by an earlier run would make Listen fail.
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", socket, err)
	}
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", socket, err)
	}
	defer os.Remove(socket)

	failed := make(chan string, 1)
	server := grpc.NewServer()
	registerapi.RegisterRegistrationServer(server, &registrationServer{driverName: name, endpoint: *kubeletPath, failed: failed})
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	klog.InfoS("serving plugin registration", "socket", socket, "driver", name)

	select {
	case <-ctx.Done():
		server.GracefulStop()
		return nil
	case reason := <-failed:
		server.Stop()
		return fmt.Errorf("the kubelet refused to register driver %s: %s", name, reason)
	case err := <-served:
		return fmt.Errorf("registration server stopped: %w", err)
	}
}

func main() {
	if err := run(); err != nil {
		klog.ErrorS(err, "registrar failed")
		klog.Flush()
		os.Exit(1)
	}
}
