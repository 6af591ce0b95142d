-- Deterministic rows for the pagila schema (written for these tests, not part
-- of pagila): about 8,500 rows that respect every foreign key, with NULLs,
-- non-ASCII text, characters COPY must escape, timestamps entered in several
-- time zones, arrays, an enum, a cube, bytea with zero bytes, and descriptions
-- of about 100 kB that PostgreSQL stores out of line (TOAST).
-- The same script always produces the same rows: no random(), no now().

SET search_path = public;

INSERT INTO language (language_id, name, last_update)
SELECT i,
       (ARRAY['English', 'Italiano', '日本語', '中文', 'Français', 'Deutsch'])[i],
       timestamptz '2022-02-15 09:34:33+00' + i * interval '1 minute'
FROM generate_series(1, 6) AS i;

INSERT INTO country (country_id, country, last_update)
SELECT i,
       (ARRAY['Afghanistan', 'Côte d’Ivoire', 'Ελλάδα', 'Türkiye', '日本', 'Россия',
              'Ísland', 'España', 'Ñandutí', 'Österreich'])[1 + (i - 1) % 10]
         || CASE WHEN i > 10 THEN ' ' || i ELSE '' END,
       timestamptz '2022-02-15 09:44:00+00' + i * interval '1 second'
FROM generate_series(1, 20) AS i;

INSERT INTO city (city_id, city, country_id, last_update)
SELECT i,
       'City ' || i || ' – '
         || (ARRAY['São Paulo', 'Zürich', 'Kraków', 'Dubrovnik', '北京', 'Αθήνα', 'Москва',
                   'Reykjavík'])[1 + i % 8],
       1 + i % 20,
       timestamptz '2022-02-15 09:45:25+00' + i * interval '1 second'
FROM generate_series(1, 200) AS i;

INSERT INTO address (address_id, address, address2, district, city_id, postal_code, phone,
                     last_update)
SELECT i,
       i || ' Main Street',
       CASE
         WHEN i % 3 = 0 THEN NULL
         WHEN i % 97 = 1 THEN E'line one\nline two\tafter a tab, a "quote", a \\ backslash'
         ELSE 'Apt ' || i
       END,
       'District ' || i % 17,
       1 + i % 200,
       CASE WHEN i % 5 = 0 THEN NULL ELSE lpad((i * 37 % 100000)::text, 5, '0') END,
       '+1-555-' || lpad(i::text, 4, '0'),
       timestamptz '2022-02-15 09:45:30+00' + i * interval '1 second'
FROM generate_series(1, 400) AS i;

INSERT INTO category (category_id, name, last_update)
SELECT i,
       (ARRAY['Action', 'Animation', 'Children', 'Classics', 'Comedy', 'Documentary', 'Drama',
              'Family', 'Foreign', 'Games', 'Horror', 'Music', 'New', 'Sci-Fi', 'Sports',
              'Travel'])[i],
       timestamptz '2022-02-15 09:46:27+00'
FROM generate_series(1, 16) AS i;

INSERT INTO actor (actor_id, first_name, last_name, last_update)
SELECT i,
       (ARRAY['José', 'Zoë', 'Björk', 'Łukasz', 'Søren', 'Ana', 'Mårten', 'François', 'Renée',
              'Дмитрий'])[1 + i % 10],
       'Actor-' || i || (ARRAY['', ' Ünal', ' O''Brien', ' 山田'])[1 + i % 4],
       timestamptz '2022-02-15 09:34:33+00' + i * interval '1 second'
FROM generate_series(1, 200) AS i;

-- fulltext is filled by the film_fulltext_trigger; length_hours is generated.
INSERT INTO film (film_id, title, description, release_year, language_id, original_language_id,
                  rental_duration, rental_rate, length, replacement_cost, rating, last_update,
                  special_features)
SELECT i,
       'FILM ' || i || ' '
         || (ARRAY['ACADEMY', 'DINOSAUR', 'ÆON', 'CAFÉ', 'NAÏVE', 'SMØRREBRØD'])[1 + i % 6],
       CASE
         WHEN i % 10 = 0 THEN NULL
         WHEN i % 50 = 1 THEN repeat('A long, long description with ünïcödé and 🎬 emoji. ', 2000)
         ELSE 'A ' || (ARRAY['Epic', 'Touching', 'Fateful', 'Stunning'])[1 + i % 4]
                   || ' story of a teacher and a robot in film ' || i
       END,
       1950 + i % 70,
       1 + i % 6,
       CASE WHEN i % 4 = 0 THEN 1 + (i + 1) % 6 END,
       3 + i % 5,
       0.99 + i % 5,
       CASE WHEN i % 13 = 0 THEN NULL ELSE 45 + i % 140 END,
       9.99 + i % 20,
       (ARRAY['G', 'PG', 'PG-13', 'R', 'NC-17'])[1 + i % 5]::mpaa_rating,
       timestamptz '2022-02-15 10:03:42+00' + i * interval '1 second',
       CASE i % 4
         WHEN 0 THEN NULL
         WHEN 1 THEN ARRAY['Trailers']
         WHEN 2 THEN ARRAY['Trailers', 'Deleted Scenes']
         ELSE ARRAY['Behind the Scenes', 'Commentaries']
       END
FROM generate_series(1, 500) AS i;

INSERT INTO film_actor (actor_id, film_id, last_update)
SELECT 1 + (f * 7 + k * 13) % 200, f, timestamptz '2022-02-15 10:05:03+00'
FROM generate_series(1, 500) AS f, generate_series(0, 2) AS k;

INSERT INTO film_category (film_id, category_id, last_update)
SELECT f, 1 + f % 16, timestamptz '2022-02-15 10:07:09+00'
FROM generate_series(1, 500) AS f;

INSERT INTO film_embedding (film_id, embedding, last_update)
SELECT f,
       cube(ARRAY(SELECT round(sin(f * j)::numeric, 6)::float8 FROM generate_series(1, 20) AS j)),
       timestamptz '2024-01-01 00:00:00+00'
FROM generate_series(1, 500) AS f;

-- store.manager_staff_id has no foreign key; staff.store_id does.
INSERT INTO store (store_id, manager_staff_id, address_id, last_update)
VALUES (1, 1, 1, '2022-02-15 09:57:12+00'),
       (2, 2, 2, '2022-02-15 09:57:12+00');

INSERT INTO staff (staff_id, first_name, last_name, address_id, email, store_id, active,
                   username, password, last_update, picture)
VALUES (1, 'Mike', 'Hillyer', 3, 'Mike.Hillyer@sakilastaff.com', 1, true, 'Mike',
        '8cb2237d0679ca88db6464eac60da96345513964', '2022-05-16 16:13:11.79328+00',
        decode('89504e470d0a1a0a0000000d49484452' || repeat('00ff10ab', 5000), 'hex')),
       (2, 'Jön', 'Stëphens', 4, NULL, 2, true, 'Jon', NULL, '2022-05-16 16:13:11.79328+00',
        NULL);

INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, activebool,
                      create_date, last_update, active, uuid)
SELECT i,
       1 + i % 2,
       (ARRAY['Mary', 'Patricia', 'Linda', 'Barbara', 'Élodie', 'Jürgen', 'Siobhán', 'Kateřina',
              'Nguyễn', 'Χρήστος', 'Олег'])[1 + i % 11],
       'Customer-' || i,
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'customer' || i || '@example.org' END,
       5 + i % 395,
       i % 11 <> 0,
       date '2022-02-14' + i % 100,
       timestamptz '2022-02-15 09:57:20+00' + i * interval '1 second',
       CASE WHEN i % 9 = 0 THEN NULL ELSE i % 2 END,
       md5('customer-' || i)::uuid
FROM generate_series(1, 600) AS i;

INSERT INTO inventory (inventory_id, film_id, store_id, last_update)
SELECT i, 1 + i % 500, 1 + i % 2, timestamptz '2022-02-15 10:09:17+00'
FROM generate_series(1, 1000) AS i;

-- The same wall clock read in four zones, one of them 45 minutes off the hour.
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id,
                    last_update, uuid)
SELECT i,
       rented,
       1 + i % 1000,
       1 + i % 600,
       CASE WHEN i % 8 = 0 THEN NULL ELSE rented + (1 + i % 7) * interval '1 day 3 hours' END,
       1 + i % 2,
       timestamptz '2022-02-16 02:30:53+00',
       md5('rental-' || i)::uuid
FROM generate_series(1, 1500) AS i,
     LATERAL (SELECT (timestamp '2022-01-01 08:00' + i * interval '97 minutes 13 seconds')
                       AT TIME ZONE (ARRAY['UTC', 'Asia/Kolkata', 'America/St_Johns',
                                           'Pacific/Chatham'])[1 + i % 4] AS rented) AS r;

-- One payment a little over a day apart: from 2022-01 to 2026-02, across ~50 partitions.
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date, uuid)
SELECT i,
       1 + i % 600,
       1 + i % 2,
       i,
       0.99 + i % 10,
       timestamptz '2022-01-01 00:30:00+00' + i * interval '1 day 1 hour 7 seconds',
       md5('payment-' || i)::uuid
FROM generate_series(1, 1500) AS i;

SELECT setval('actor_actor_id_seq', 200),
       setval('address_address_id_seq', 400),
       setval('category_category_id_seq', 16),
       setval('city_city_id_seq', 200),
       setval('country_country_id_seq', 20),
       setval('customer_customer_id_seq', 600),
       setval('film_film_id_seq', 500),
       setval('inventory_inventory_id_seq', 1000),
       setval('language_language_id_seq', 6),
       setval('payment_payment_id_seq', 1500),
       setval('rental_rental_id_seq', 1500),
       setval('staff_staff_id_seq', 2),
       setval('store_store_id_seq', 2);

REFRESH MATERIALIZED VIEW rental_by_category;
