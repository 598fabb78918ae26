//! cvmbot: a team's purchasing desk for Tencent Cloud CVM servers.
