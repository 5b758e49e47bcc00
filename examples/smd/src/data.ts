/**
 * Seed inventory with real-looking HPE/Cray xnames: cabinet x3000, chassis c0, slots s19–s22,
 * BMCs b1/b2, nodes n0 (`x3000c0s19b1n0` is slot 19, BMC 1, node 0).
 */

export interface Component {
  ID: string
  Type: string
  State: string
  Flag: string
  Enabled: boolean
  Role: string
  NID: number
  NetType: string
  Arch: string
  Class: string
}

export interface EthernetInterface {
  ID: string
  Description: string
  MACAddress: string
  LastUpdate: string
  ComponentID: string
  Type: string
  IPAddresses: { IPAddress: string; Network: string }[]
}

const NODES: [string, number, string, string][] = [
  ['x3000c0s19b1n0', 1, 'a4:bf:01:3e:c0:01', '172.16.0.1'],
  ['x3000c0s19b2n0', 2, 'a4:bf:01:3e:c0:02', '172.16.0.2'],
  ['x3000c0s20b1n0', 3, 'a4:bf:01:3e:c0:03', '172.16.0.3'],
  ['x3000c0s21b1n0', 4, 'a4:bf:01:3e:c0:04', '172.16.0.4'],
]

/** A fresh copy of the seed data (each app gets its own, so tests do not share state). */
export function seed(): {
  components: Component[]
  interfaces: EthernetInterface[]
  redfishEndpoints: Record<string, unknown>[]
  componentEndpoints: Record<string, unknown>[]
} {
  const components: Component[] = NODES.map(([ID, NID]) => ({
    ID,
    Type: 'Node',
    State: 'Ready',
    Flag: 'OK',
    Enabled: true,
    Role: 'Compute',
    NID,
    NetType: 'Sling',
    Arch: 'X86',
    Class: 'River',
  }))
  components.push({
    ID: 'x3000c0s19b1',
    Type: 'NodeBMC',
    State: 'Ready',
    Flag: 'OK',
    Enabled: true,
    Role: 'Management',
    NID: 0,
    NetType: 'Sling',
    Arch: 'X86',
    Class: 'River',
  })
  const interfaces: EthernetInterface[] = NODES.map(([ID, , mac, ip]) => ({
    ID: mac.replaceAll(':', ''),
    Description: 'Ethernet Interface Lan1',
    MACAddress: mac,
    LastUpdate: '2026-11-01T08:00:00.000000Z',
    ComponentID: ID,
    Type: 'Node',
    IPAddresses: [{ IPAddress: ip, Network: 'NMN' }],
  }))
  const redfishEndpoints = NODES.map(([ID]) => ({
    ID: ID.replace(/n0$/, ''),
    Type: 'NodeBMC',
    Enabled: true,
    FQDN: `${ID.replace(/n0$/, '')}.openchami.cluster`,
    User: 'root',
    RediscoverOnUpdate: true,
  }))
  const componentEndpoints = NODES.map(([ID, , mac]) => ({
    ID,
    Type: 'Node',
    RedfishEndpointID: ID.replace(/n0$/, ''),
    Enabled: true,
    MACAddr: mac,
    FQDN: `${ID}.openchami.cluster`,
  }))
  return { components, interfaces, redfishEndpoints, componentEndpoints }
}
