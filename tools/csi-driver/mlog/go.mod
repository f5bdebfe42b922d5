module monis.app/mlog

go 1.24

require k8s.io/klog/v2 v2.100.1
