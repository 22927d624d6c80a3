// rtnetlink numbers from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
// linux/if_addr.h. Stable kernel ABI.

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_ROUTE = 0;
export const SOL_SOCKET = 1;
export const SO_RCVTIMEO = 20;
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

export const NLMSG_HDRLEN = 16;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;
export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_GETROUTE = 26;

export const IFF_UP = 0x1;
export const IFF_PROMISC = 0x100;
export const IFINFOMSG_LEN = 16;
export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
/** ifindex of the lower device (a macvlan's or a VLAN's parent) */
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
/** nested in IFLA_INFO_SLAVE_DATA of a bridge port: its hairpin (reflective relay) mode */
export const IFLA_BRPORT_MODE = 4;
export const IFLA_LINKINFO = 18;
/** a link's free-text alias (`ip link set NAME alias TEXT`) */
export const IFLA_IFALIAS = 20;
export const IFLA_NET_NS_FD = 28;
export const IFLA_EXT_MASK = 29;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_INFO_SLAVE_KIND = 4;
export const IFLA_INFO_SLAVE_DATA = 5;
export const VETH_INFO_PEER = 1;
/** in IFLA_INFO_DATA of a macvlan (linux/if_link.h) */
export const IFLA_MACVLAN_MODE = 1;
export const MACVLAN_MODE_PRIVATE = 1;
export const MACVLAN_MODE_VEPA = 2;
export const MACVLAN_MODE_BRIDGE = 4;
export const MACVLAN_MODE_PASSTHRU = 8;
/** in IFLA_INFO_DATA of a vlan: the 802.1q tag (u16) */
export const IFLA_VLAN_ID = 1;
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

export const IFADDRMSG_LEN = 8;
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_FLAGS = 8;
/** no duplicate address detection: the address is usable at once, not "tentative" for a second or more */
export const IFA_F_NODAD = 0x02;
/** the address is added without the route to its subnet (IPv4 since Linux 4.4) */
export const IFA_F_NOPREFIXROUTE = 0x200;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;

export const RTMSG_LEN = 12;
export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;
export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RTM_DELROUTE = 25;

// ---- VXLAN links (linux/if_link.h, IFLA_VXLAN_* in IFLA_INFO_DATA) ----
export const IFLA_VXLAN_ID = 1;
export const IFLA_VXLAN_LOCAL = 4;
export const IFLA_VXLAN_TTL = 5;
export const IFLA_VXLAN_LEARNING = 7;
export const IFLA_VXLAN_PROXY = 11;
export const IFLA_VXLAN_L2MISS = 13;
export const IFLA_VXLAN_L3MISS = 14;
/** the destination UDP port, big-endian u16 */
export const IFLA_VXLAN_PORT = 15;
export const IFLA_VXLAN_LOCAL6 = 17;
/** nested in IFLA_INFO_SLAVE_DATA of a bridge port: whether the bridge learns source MACs on it */
export const IFLA_BRPORT_LEARNING = 8;

// ---- neighbours and FDB entries (linux/neighbour.h) ----
export const AF_BRIDGE = 7;
export const RTM_NEWNEIGH = 28;
export const RTM_DELNEIGH = 29;
export const RTM_GETNEIGH = 30;
export const NDMSG_LEN = 12;
export const NDA_DST = 1;
export const NDA_LLADDR = 2;
export const NDA_VNI = 7;
export const NDA_MASTER = 9;
/** an FDB entry of the device itself (the VXLAN driver's table) */
export const NTF_SELF = 0x02;
/** an FDB entry of the device's master (the bridge's table) */
export const NTF_MASTER = 0x04;
export const NTF_EXT_LEARNED = 0x10;
export const NUD_REACHABLE = 0x02;
export const NUD_STALE = 0x04;
export const NUD_NOARP = 0x40;
export const NUD_PERMANENT = 0x80;

// ---- conntrack over nfnetlink (linux/netfilter/nfnetlink*.h) ----
export const NETLINK_NETFILTER = 12;
export const NFGENMSG_LEN = 4;
export const NFNL_SUBSYS_CTNETLINK = 1;
export const IPCTNL_MSG_CT_GET = 1;
export const IPCTNL_MSG_CT_DELETE = 2;
export const CTA_TUPLE_ORIG = 1;
export const CTA_TUPLE_REPLY = 2;
export const CTA_ID = 12;
export const CTA_ZONE = 18;
export const CTA_TUPLE_IP = 1;
export const CTA_IP_V4_SRC = 1;
export const CTA_IP_V4_DST = 2;
export const CTA_IP_V6_SRC = 3;
export const CTA_IP_V6_DST = 4;
