/**
 * One email with every component of MJML's core preset, head elements included: compiled once
 * by scripts/bundle.js so that V8's code cache of the mjml bundle holds the code every component
 * runs, whichever ones a user's templates use.
 */
export const SAMPLE_MJML = `<mjml>
  <mj-head>
    <mj-title>Sample</mj-title>
    <mj-preview>Sample preheader</mj-preview>
    <mj-font name="Inter" href="https://fonts.example.com/inter.css" />
    <mj-breakpoint width="480px" />
    <mj-attributes>
      <mj-all font-family="Inter, Arial, sans-serif" />
      <mj-text color="#222222" />
      <mj-class name="muted" color="#666666" />
    </mj-attributes>
    <mj-html-attributes>
      <mj-selector path=".lead div"><mj-html-attribute name="data-role">lead</mj-html-attribute></mj-selector>
    </mj-html-attributes>
    <mj-style>@media (max-width: 480px) { .lead { padding: 0 !important; } }</mj-style>
    <mj-style inline="inline">.lead a { color: #0057b8; text-decoration: underline; }</mj-style>
  </mj-head>
  <mj-body background-color="#f4f4f4" width="600px">
    <mj-raw><!-- raw --></mj-raw>
    <mj-wrapper padding="0" background-color="#ffffff" border-radius="4px">
      <mj-section css-class="lead" background-url="https://example.com/bg.png" background-size="cover">
        <mj-column width="100%">
          <mj-image src="https://example.com/a.png" alt="A" width="600px" height="300px" href="https://example.com/" />
          <mj-text mj-class="muted" font-size="14px" line-height="1.5"><h1>Title</h1><p>Text with <a href="https://example.com/">a link</a>.</p></mj-text>
          <mj-button href="https://example.com/" background-color="#0057b8" border-radius="4px">Read</mj-button>
          <mj-divider border-color="#dddddd" border-width="1px" />
          <mj-spacer height="16px" />
          <mj-table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></mj-table>
        </mj-column>
      </mj-section>
    </mj-wrapper>
    <mj-section>
      <mj-group>
        <mj-column><mj-text>One</mj-text></mj-column>
        <mj-column><mj-text>Two</mj-text></mj-column>
      </mj-group>
    </mj-section>
    <mj-hero mode="fixed-height" height="200px" background-url="https://example.com/hero.png" background-width="600px" background-height="200px">
      <mj-text>Hero</mj-text>
    </mj-hero>
    <mj-section>
      <mj-column>
        <mj-navbar><mj-navbar-link href="https://example.com/a">A</mj-navbar-link><mj-navbar-link href="https://example.com/b">B</mj-navbar-link></mj-navbar>
        <mj-social mode="horizontal"><mj-social-element name="facebook" href="https://example.com/f">Facebook</mj-social-element><mj-social-element name="x" href="https://example.com/x">X</mj-social-element></mj-social>
        <mj-accordion><mj-accordion-element><mj-accordion-title>Q</mj-accordion-title><mj-accordion-text>A</mj-accordion-text></mj-accordion-element></mj-accordion>
        <mj-carousel><mj-carousel-image src="https://example.com/1.png" alt="1" /><mj-carousel-image src="https://example.com/2.png" alt="2" /></mj-carousel>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;
