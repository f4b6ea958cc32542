import ipaddress


def in_lan(addr):
    return ipaddress.ip_address(addr) in ipaddress.IPv4Network("10.0.0.0/8")


def gateway():
    return ipaddress.IPv4Address("10.0.0.1")
