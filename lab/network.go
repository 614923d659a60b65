package lab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// linkExists reports whether a network interface of that name exists here.
func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", name))
	return err == nil
}

// ensureBridge creates the lab bridge with the gateway address, once.
func ensureBridge(c Config, gw string) error {
	if !linkExists(c.Bridge) {
		if err := run("ip", "link", "add", c.Bridge, "type", "bridge"); err != nil {
			return fmt.Errorf("create bridge: %w", err)
		}
	}
	// "replace" keeps a re-run from failing on an address that is already there.
	if err := run("ip", "addr", "replace", gw, "dev", c.Bridge); err != nil {
		return fmt.Errorf("address bridge: %w", err)
	}
	if err := run("ip", "link", "set", c.Bridge, "up"); err != nil {
		return fmt.Errorf("bring up bridge: %w", err)
	}
	return nil
}

// ensureHostNetwork gives a host its network namespace, with eth0 on the lab
// bridge, its address and a default route. The namespace outlives reboots of
// the container, so the host keeps its address across them.
func ensureHostNetwork(c Config, h Host, gw string, bits int) error {
	ns, veth := c.netnsName(h.Name), c.vethName(h.Name)
	if !netnsExists(ns) {
		if err := run("ip", "netns", "add", ns); err != nil {
			return fmt.Errorf("netns %s: %w", ns, err)
		}
	}
	if !linkExists(veth) {
		if err := run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns); err != nil {
			return fmt.Errorf("veth %s: %w", veth, err)
		}
	}
	steps := [][]string{
		{"ip", "link", "set", veth, "master", c.Bridge, "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "addr", "replace", h.Address + "/" + strconv.Itoa(bits), "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "route", "replace", "default", "via", gw},
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return fmt.Errorf("network of %s: %w", h.Name, err)
		}
	}
	return nil
}

// removeHostNetwork deletes the namespace (which takes eth0 and so its veth
// peer with it) and the host side of the veth if it is still there.
func removeHostNetwork(c Config, h Host) error {
	ns, veth := c.netnsName(h.Name), c.vethName(h.Name)
	if netnsExists(ns) {
		if err := run("ip", "netns", "delete", ns); err != nil {
			return err
		}
	}
	// Deleting the namespace deletes the veth pair, but not always before
	// we look: a link that vanished meanwhile is gone as wanted.
	if linkExists(veth) {
		if err := run("ip", "link", "delete", veth); err != nil && linkExists(veth) {
			return err
		}
	}
	return nil
}

func removeBridge(c Config) error {
	if !linkExists(c.Bridge) {
		return nil
	}
	return run("ip", "link", "delete", c.Bridge)
}
