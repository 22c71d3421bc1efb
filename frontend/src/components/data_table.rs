//! `DataTable`: a table of rows with sortable columns, a filter box and an empty state.
//!
//! Columns are described with [`Column`]: a header and a text function (used for display,
//! filtering and, by default, sorting), optionally a custom cell view and a sort key. Clicking a
//! header sorts ascending, clicking again sorts descending.

use std::sync::Arc;

use leptos::prelude::*;

use super::EmptyRow;

/// What a column sorts by. Variants order as written: missing values first when ascending.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Missing,
    Int(i64),
    Text(String),
}

type TextFn<T> = Arc<dyn Fn(&T) -> String + Send + Sync>;
type SortFn<T> = Arc<dyn Fn(&T) -> SortKey + Send + Sync>;
type CellFn<T> = Arc<dyn Fn(&T) -> AnyView + Send + Sync>;

/// One column of a [`DataTable`].
pub struct Column<T> {
    header: &'static str,
    text: TextFn<T>,
    sort: Option<SortFn<T>>,
    cell: Option<CellFn<T>>,
    class: &'static str,
}

impl<T> Clone for Column<T> {
    fn clone(&self) -> Self {
        Column {
            header: self.header,
            text: Arc::clone(&self.text),
            sort: self.sort.clone(),
            cell: self.cell.clone(),
            class: self.class,
        }
    }
}

impl<T: 'static> Column<T> {
    /// A column shown, filtered and sorted (case-insensitively) by `text`.
    pub fn new(header: &'static str, text: impl Fn(&T) -> String + Send + Sync + 'static) -> Self {
        let text: TextFn<T> = Arc::new(text);
        let by_text = Arc::clone(&text);
        Column {
            header,
            text,
            sort: Some(Arc::new(move |row| {
                SortKey::Text(by_text(row).to_lowercase())
            })),
            cell: None,
            class: "",
        }
    }

    /// Sorts by `key` instead of the text (e.g. a timestamp).
    pub fn sort_by(mut self, key: impl Fn(&T) -> SortKey + Send + Sync + 'static) -> Self {
        self.sort = Some(Arc::new(key));
        self
    }

    /// The header is not clickable.
    pub fn unsorted(mut self) -> Self {
        self.sort = None;
        self
    }

    /// Renders cells with `cell` instead of the plain text.
    pub fn cell<V: IntoView + 'static>(
        mut self,
        cell: impl Fn(&T) -> V + Send + Sync + 'static,
    ) -> Self {
        self.cell = Some(Arc::new(move |row| cell(row).into_any()));
        self
    }

    /// CSS class of the column's cells (e.g. `num`, `mono`, `actions`).
    pub fn class(mut self, class: &'static str) -> Self {
        self.class = class;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Asc,
    Desc,
}

/// True when every whitespace-separated word of `filter` occurs in `haystack` (both lowercase).
fn matches_filter(haystack: &str, filter: &str) -> bool {
    filter
        .split_whitespace()
        .all(|word| haystack.contains(word))
}

/// A sortable, filterable table of `rows`.
#[component]
pub fn DataTable<T>(
    #[prop(into)] rows: Signal<Vec<T>>,
    columns: Vec<Column<T>>,
    /// Shown instead of rows when there are none.
    #[prop(default = "Nothing here yet.")]
    empty: &'static str,
    /// Show the filter box above the table.
    #[prop(default = true)]
    filterable: bool,
    /// Makes rows clickable (and focusable, Enter activates).
    #[prop(optional, into)]
    on_row_click: Option<Callback<T>>,
    /// Extra CSS class per row, e.g. to highlight the selected one.
    #[prop(optional, into)]
    row_class: Option<Callback<T, String>>,
    /// `data-test` attribute of the table wrapper.
    #[prop(optional)]
    test_id: &'static str,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let columns = Arc::new(columns);
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(None::<(usize, Direction)>);

    let visible = {
        let columns = Arc::clone(&columns);
        move || {
            let needle = filter.get().to_lowercase();
            let mut shown: Vec<T> = rows.with(|rows| {
                rows.iter()
                    .filter(|row| {
                        needle.trim().is_empty() || {
                            let hay = columns
                                .iter()
                                .map(|c| (c.text)(row))
                                .collect::<Vec<_>>()
                                .join(" ")
                                .to_lowercase();
                            matches_filter(&hay, &needle)
                        }
                    })
                    .cloned()
                    .collect()
            });
            if let Some((index, dir)) = sort.get()
                && let Some(key) = columns.get(index).and_then(|c| c.sort.clone())
            {
                // A stable sort keeps the server's order among equal keys.
                shown.sort_by(|a, b| {
                    let order = key(a).cmp(&key(b));
                    if dir == Direction::Asc {
                        order
                    } else {
                        order.reverse()
                    }
                });
            }
            shown
        }
    };

    let header_cells = columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let header = column.header;
            let aria_sort = move || match sort.get() {
                Some((i, Direction::Asc)) if i == index => "ascending",
                Some((i, Direction::Desc)) if i == index => "descending",
                _ => "none",
            };
            if column.sort.is_none() {
                return view! { <th scope="col">{header}</th> }.into_any();
            }
            let arrow = move || match sort.get() {
                Some((i, Direction::Asc)) if i == index => "▲",
                Some((i, Direction::Desc)) if i == index => "▼",
                _ => "",
            };
            let on_click = move |_| {
                sort.update(|s| {
                    *s = match *s {
                        Some((i, Direction::Asc)) if i == index => Some((index, Direction::Desc)),
                        _ => Some((index, Direction::Asc)),
                    }
                })
            };
            view! {
                <th scope="col" aria-sort=aria_sort>
                    <button type="button" class="th-sort" on:click=on_click>
                        {header}
                        <span class="sort-arrow" aria-hidden="true">
                            {arrow}
                        </span>
                    </button>
                </th>
            }
            .into_any()
        })
        .collect_view();

    let column_count = columns.len();
    let total = move || rows.with(Vec::len);
    let body = {
        let columns = Arc::clone(&columns);
        let visible = visible.clone();
        move || {
            let shown = visible();
            if shown.is_empty() {
                let text = if total() == 0 {
                    empty
                } else {
                    "No rows match the filter."
                };
                return view! { <EmptyRow colspan=column_count text=text.to_string() /> }
                    .into_any();
            }
            shown
                .into_iter()
                .map(|row| {
                    let cells = columns
                        .iter()
                        .map(|c| {
                            let content = match &c.cell {
                                Some(cell) => cell(&row),
                                None => (c.text)(&row).into_any(),
                            };
                            view! { <td class=c.class>{content}</td> }
                        })
                        .collect_view();
                    let extra = row_class.map(|f| f.run(row.clone())).unwrap_or_default();
                    match on_row_click {
                        Some(callback) => {
                            let clicked = row.clone();
                            let pressed = row;
                            view! {
                                <tr
                                    class=format!("clickable {extra}")
                                    tabindex="0"
                                    on:click=move |_| callback.run(clicked.clone())
                                    on:keydown=move |ev| {
                                        if ev.key() == "Enter" {
                                            callback.run(pressed.clone());
                                        }
                                    }
                                >
                                    {cells}
                                </tr>
                            }
                            .into_any()
                        }
                        None => view! { <tr class=extra>{cells}</tr> }.into_any(),
                    }
                })
                .collect_view()
                .into_any()
        }
    };

    let count = move || {
        let shown = visible().len();
        let all = total();
        if shown == all {
            format!("{all} rows")
        } else {
            format!("{shown} of {all} rows")
        }
    };

    view! {
        <div class="data-table" data-test=test_id>
            {filterable
                .then(|| {
                    view! {
                        <div class="table-tools">
                            <input
                                type="search"
                                class="table-filter"
                                placeholder="Filter…"
                                aria-label="Filter rows"
                                prop:value=move || filter.get()
                                on:input=move |ev| filter.set(event_target_value(&ev))
                            />
                            <span class="muted table-count">{count}</span>
                        </div>
                    }
                })}
            <div class="table-scroll">
                <table>
                    <thead>
                        <tr>{header_cells}</tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        </div>
    }
}

/// Sort key of an optional number, e.g. a "last used" time that may be missing.
pub fn int_key(value: Option<i64>) -> SortKey {
    value.map_or(SortKey::Missing, SortKey::Int)
}
