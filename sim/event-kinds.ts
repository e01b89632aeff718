// The kinds of scheduled events in a simulated world. Plain numbers, not objects:
// the scheduler keeps them in typed arrays (sim/scheduler.ts).
export const DELIVER = 1; // a message reaches a node
export const TICK = 2; // a node's timer tick
export const MINT_DELIVER = 3; // a message reaches the mint
export const MINT_TICK = 4; // the mint's timer tick
export const SUBMIT = 5; // a wallet hands a transfer to a gateway
export const ARRIVAL = 6; // the workload's next transfer arrives
export const WALLET_CHECK = 7; // a wallet looks at a pending transfer (resubmit as is)
export const SECOND = 8; // one virtual second passed: time series row
export const CALL = 9; // a rare scheduled action (faults, adversaries)
export const FUND = 10; // the funding tree's next issuance
