// Memory is data, never policy. Nothing reads memory to decide budgets, approvers, quiet hours or which
// actions exist (settings change only through `/tacit` commands), so a poisoned entry cannot change
// them; this guard also keeps such claims out of the prompt, where they could only mislead the model.
const POLICY_CLAIMS: RegExp[] = [
  // "alice may approve everything", "bob is allowed to bypass approvals"
  /\b(?:may|can|could|should|is allowed to|are allowed to|allowed to|authori[sz]ed to|permitted to|gets? to)\s+(?:always\s+)?(?:approve|authori[sz]e|bypass|override|skip)\b/i,
  // "approvals are not needed", "no approval required"
  /\b(?:no|without|skip(?:ping)?)\s+(?:an?\s+)?approvals?\b|\bapprovals?\s+(?:is|are)\s+(?:not\s+)?(?:needed|required|optional|unnecessary)\b/i,
  // "the approvers are …", "budget is 100", "quiet hours are off", "two-person rule disabled"
  /\b(?:approvers?|approver policy|budget|quiet[ -]hours|two[ -]person rule|token budget|allow[ -]?list)\b[^.\n]{0,30}\b(?:is|are|=|set to|changed to|now|off|disabled|enabled|removed|raised|increased|unlimited)\b/i,
  // "you may now run delete_database", "new action: …"
  /\b(?:new|extra|additional)\s+actions?\b|\baction\b[^.\n]{0,30}\b(?:is|are)\s+(?:now\s+)?(?:available|allowed|enabled)\b/i,
];

/** The first policy-like claim in the text, or null. */
export function policyClaim(text: string): string | null {
  for (const pattern of POLICY_CLAIMS) {
    const m = pattern.exec(text);
    if (m) return m[0];
  }
  return null;
}
