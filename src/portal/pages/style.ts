// The portal's only stylesheet (served at /style.css; the Content-Security-Policy allows no
// inline style and no script: the pages work without JavaScript).
export const STYLE = `
:root { --blue: #000091; --blue-light: #e3e3fd; --red: #c9191e; --green: #18753c; --grey: #666; --line: #ddd; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #161616; background: #f6f6f6; line-height: 1.5; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem 2rem; padding: .75rem 1.5rem; background: #fff; border-bottom: 3px solid var(--blue); }
.brand { font-weight: 700; font-size: 1.1rem; }
.brand .mark { color: #fff; background: var(--blue); padding: .1rem .4rem; margin-right: .3rem; }
.brand .operator { display: block; font-weight: 400; font-size: .85rem; color: var(--grey); }
nav a { margin-right: 1.2rem; color: var(--blue); text-decoration: none; font-weight: 600; }
nav a[aria-current="page"] { border-bottom: 2px solid var(--blue); }
form.signout { margin-left: auto; display: flex; align-items: center; gap: .75rem; font-size: .9rem; }
main { max-width: 72rem; margin: 1.5rem auto; padding: 1.5rem 2rem; background: #fff; border: 1px solid var(--line); }
h1 { font-size: 1.6rem; margin-top: 0; color: var(--blue); }
h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .95rem; }
th, td { text-align: left; vertical-align: top; padding: .5rem .6rem; border-bottom: 1px solid var(--line); }
th { background: var(--blue-light); }
td form { display: inline-flex; flex-wrap: wrap; gap: .4rem; margin: 0 .4rem .3rem 0; }
ul.caps { margin: 0; padding-left: 1.1rem; }
.flash { padding: .75rem 1rem; border-left: 4px solid; }
.flash.ok { border-color: var(--green); background: #b8fec9; }
.flash.error { border-color: var(--red); background: #ffe9e9; }
.field-error { display: block; color: var(--red); font-size: .9rem; }
fieldset { border: 1px solid var(--line); padding: 1rem 1.2rem; margin: 1.2rem 0; }
legend { font-weight: 700; padding: 0 .3rem; }
label { display: block; margin: .6rem 0 .2rem; font-weight: 600; }
label.inline { display: inline; font-weight: 400; margin-left: .3rem; }
input[type="text"], select { width: 100%; max-width: 32rem; padding: .45rem .5rem; border: 1px solid #888; border-radius: 2px; font: inherit; }
td input[type="text"], td select { width: auto; max-width: 14rem; }
button, .button { display: inline-block; margin-top: .8rem; padding: .5rem 1rem; background: var(--blue); color: #fff; border: 0; border-radius: 2px; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
td button { margin-top: 0; padding: .3rem .7rem; }
fieldset button { display: block; }
td button, .signout button { display: inline-block; }
button.secondary { background: #fff; color: var(--blue); border: 1px solid var(--blue); }
button.danger { background: var(--red); }
.signout button { margin: 0; }
.tabs { display: flex; gap: 1rem; border-bottom: 1px solid var(--line); margin: 1rem 0; padding-bottom: .3rem; }
.tabs a { color: var(--blue); text-decoration: none; }
.tabs a[aria-current="page"] { font-weight: 700; border-bottom: 2px solid var(--blue); }
.muted { color: var(--grey); }
.ok-text { color: var(--green); font-weight: 600; }
.refused-text { color: var(--red); font-weight: 600; }
footer { text-align: center; color: var(--grey); font-size: .85rem; margin-bottom: 2rem; }
a.back { display: inline-block; margin-bottom: .5rem; color: var(--blue); }
`;
