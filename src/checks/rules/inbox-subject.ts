import type { Rule } from '../types.js';

/** RFC 5322's recommended line length; inboxes show roughly 40-70 characters of a subject. */
export const SUBJECT_MAX = 78;

export const inboxSubject: Rule = {
  id: 'inbox/subject',
  description: `the subject is missing or longer than ${SUBJECT_MAX} characters`,
  defaultSeverity: 'warn',
  check({ rendered, locate }) {
    const subject = rendered.subject.trim();
    const place = locate.issueKey('subject');
    if (!subject) return [{ message: 'the subject is empty: write `subject:` in the issue front matter', ...place }];
    const length = [...subject].length;
    if (length <= SUBJECT_MAX) return [];
    return [{ message: `the subject is ${length} characters: inboxes cut it after about 60 and ${SUBJECT_MAX} is the limit to aim for; put the news in the first words and shorten it`, ...place }];
  },
};
