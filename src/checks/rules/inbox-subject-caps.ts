import type { Rule } from '../types.js';

export const inboxSubjectCaps: Rule = {
  id: 'inbox/subject-caps',
  description: 'the subject is written in capitals',
  defaultSeverity: 'warn',
  check({ rendered, locate }) {
    const letters = [...rendered.subject].filter((c) => c.toLowerCase() !== c.toUpperCase());
    const upper = letters.filter((c) => c === c.toUpperCase()).length;
    // Acronyms (NATO, EU) are fine; a subject that is mostly capitals reads as shouting and as spam.
    if (letters.length < 6 || upper / letters.length < 0.8) return [];
    return [{ message: `the subject is in capitals ("${rendered.subject}"): it reads as shouting and spam filters score it; write it in sentence case`, ...locate.issueKey('subject') }];
  },
};
